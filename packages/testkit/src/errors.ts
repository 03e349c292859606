/**
 * Raised when the testkit cannot give a test the real service it asked for. The message
 * always says how to get one (environment variable, local service, Docker).
 */
export class TestkitError extends Error {
  override name = "TestkitError";
  readonly code: string;

  constructor(code: string, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}
