/**
 * One `hix` subcommand. `run` returns the exit code; it prints results on stdout and
 * problems on stderr as one line each — never a stack trace.
 *
 * Exit codes (the same for every subcommand):
 *   0 success · 1 the operation failed (e.g. verification found a broken chain)
 *   2 bad usage or bad input · 3 a service (NATS, PostgreSQL) could not be reached
 */
export interface Command {
  /** Words after `hix`, e.g. ["facility", "add"]. */
  readonly path: readonly string[];
  /** One line for `hix --help`. */
  readonly summary: string;
  /** Full help for `hix <path> --help`: usage, options, examples. */
  readonly help: string;
  run(args: readonly string[], io: CommandIo): Promise<number>;
}

export interface CommandIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

export const EXIT = { ok: 0, failed: 1, usage: 2, unavailable: 3 } as const;

/** Thrown by commands for bad usage or input; main prints its message and exits 2. */
export class UsageError extends Error {
  override name = "UsageError";
}
