import { HixError } from "@hix/runtime";

/**
 * Every error @hix/db raises. `retryable` says whether running the same work again can
 * succeed (a serialization failure, a deadlock, a lost connection), not whether it will.
 */
export class DbError extends HixError {
  override name = "DbError";
  /** PostgreSQL SQLSTATE when the server reported one (https://www.postgresql.org/docs/current/errcodes-appendix.html). */
  readonly sqlState: string | undefined;

  constructor(
    code: string,
    message: string,
    options: { retryable?: boolean; cause?: unknown; sqlState?: string | undefined } = {},
  ) {
    super(code, message, options);
    this.sqlState = options.sqlState;
  }
}

/** A statement the server refused. Messages carry SQLSTATE and the server's message, never the row detail. */
export class DbQueryError extends DbError {
  override name = "DbQueryError";
}

/** A migration file is malformed, duplicated, or was changed after it was applied. */
export class MigrationError extends DbError {
  override name = "MigrationError";
}

/** An applied migration's file no longer matches what was applied (its checksum or name changed). */
export class MigrationChangedError extends MigrationError {
  override name = "MigrationChangedError";
}

/** A migration's SQL failed; its transaction was rolled back and later files were not run. */
export class MigrationFailedError extends MigrationError {
  override name = "MigrationFailedError";
}

/**
 * SQLSTATEs after which the same transaction may succeed when run again:
 * 40001 serialization_failure, 40P01 deadlock_detected (class 40, transaction rollback);
 * class 08 connection exceptions; 57P01 admin_shutdown, 57P02 crash_shutdown,
 * 57P03 cannot_connect_now (server restarting).
 */
const RETRYABLE: ReadonlyMap<string, string> = new Map([
  ["40001", "db.serialization_failure"],
  ["40P01", "db.deadlock"],
  ["57P01", "db.server_shutdown"],
  ["57P02", "db.server_shutdown"],
  ["57P03", "db.server_starting"],
]);

const NAMED: ReadonlyMap<string, string> = new Map([
  ["23505", "db.unique_violation"],
  ["23503", "db.foreign_key_violation"],
  ["23502", "db.not_null_violation"],
  ["23514", "db.check_violation"],
  ["42P01", "db.undefined_table"],
  ["57014", "db.query_canceled"],
]);

/** The SQLSTATE of a pg error (a five-character `code`), if it is one. */
export function sqlStateOf(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null || !("code" in err)) return undefined;
  const code = err.code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Whether the SQLSTATE says the whole transaction may succeed if run again. */
export function isRetryableSqlState(sqlState: string | undefined): boolean {
  return sqlState !== undefined && (RETRYABLE.has(sqlState) || sqlState.startsWith("08"));
}

/**
 * Turns whatever pg threw into a DbError; DbErrors and errors that are not from the
 * database (the caller's own) are returned unchanged. Node socket errors (ECONNREFUSED,
 * ECONNRESET) count as retryable connection failures.
 */
export function toDbError(err: unknown, where: string): unknown {
  if (err instanceof DbError) return err;
  const sqlState = sqlStateOf(err);
  if (sqlState !== undefined) {
    const code =
      RETRYABLE.get(sqlState) ??
      NAMED.get(sqlState) ??
      (sqlState.startsWith("08") ? "db.connection" : "db.query_failed");
    const serverMessage = err instanceof Error ? err.message : "";
    return new DbQueryError(code, `${where}: SQLSTATE ${sqlState}: ${serverMessage}`, {
      retryable: isRetryableSqlState(sqlState),
      cause: err,
      sqlState,
    });
  }
  const nodeCode = typeof err === "object" && err !== null && "code" in err ? err.code : undefined;
  if (typeof nodeCode === "string" && /^E(CONNREFUSED|CONNRESET|PIPE|TIMEDOUT|HOSTUNREACH)$/.test(nodeCode)) {
    return new DbError("db.connection", `${where}: cannot reach the database (${nodeCode})`, {
      retryable: true,
      cause: err,
    });
  }
  if (
    err instanceof Error &&
    /Connection terminated|timeout exceeded when trying to connect/i.test(err.message)
  ) {
    return new DbError("db.connection", `${where}: ${err.message}`, { retryable: true, cause: err });
  }
  return err;
}
