/**
 * The base of every error hix raises on purpose. `code` is a stable machine code
 * (dotted, e.g. `router.unknown_facility`) that tests, receipts and dead-letter
 * records carry; `retryable` tells the one place that maps errors to ack / nak / term
 * whether trying again can help. Messages say what and where — never PHI.
 */
export class HixError extends Error {
  override name = "HixError";
  readonly code: string;
  readonly retryable: boolean;

  constructor(code: string, message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/** Whether an unknown thrown value says trying again may help (unknown errors: yes). */
export function isRetryable(err: unknown): boolean {
  if (err instanceof HixError) return err.retryable;
  if (typeof err === "object" && err !== null && "retryable" in err) return Boolean(err.retryable);
  return true;
}

/** The stable code of a thrown value, or `internal` when it is not one of ours. */
export function errorCode(err: unknown): string {
  if (err instanceof HixError) return err.code;
  if (typeof err === "object" && err !== null && "code" in err && typeof err.code === "string")
    return err.code;
  return "internal";
}
