import type pg from "pg";
import { sqlStateOf, toDbError } from "./errors.js";

export interface TransactionOptions {
  /** Attempts in all, the first included (default 5). */
  maxAttempts?: number;
  /** Isolation level (default: the server's, READ COMMITTED). */
  isolation?: "read committed" | "repeatable read" | "serializable";
  /** First back-off between attempts in ms, doubled each time with jitter (default 10). */
  backoffMs?: number;
  /**
   * A parameterless statement sent with BEGIN in one round trip (simple protocol), e.g. a
   * `SELECT … FOR UPDATE` that takes a lock; its rows are handed to `fn`. Saves a round trip on
   * hot paths that always start by locking something.
   */
  beginWith?: string;
}

/**
 * Runs `fn` inside BEGIN … COMMIT on one pooled connection; ROLLBACK if it throws. When the
 * server aborts the transaction with a serialization failure (40001) or a deadlock (40P01)
 * — at any statement, COMMIT included — the whole of `fn` runs again, up to `maxAttempts`
 * times, so `fn` must have no effects outside the transaction. Errors from pg come out as
 * DbError; the caller's own errors come out unchanged.
 */
export async function withTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient, begun: pg.QueryResultRow[]) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const maxAttempts = Math.max(1, options.maxAttempts ?? 5);
  const backoffMs = options.backoffMs ?? 10;
  const isolation = options.isolation ? ` ISOLATION LEVEL ${options.isolation.toUpperCase()}` : "";
  const begin =
    options.beginWith === undefined ? `BEGIN${isolation}` : `BEGIN${isolation}; ${options.beginWith}`;

  for (let attempt = 1; ; attempt++) {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      throw toDbError(err, "withTransaction: connect");
    }
    let broken: Error | undefined;
    try {
      const started: unknown = await client.query(begin);
      // Two statements in one query come back as one result each.
      const begun: pg.QueryResultRow[] = Array.isArray(started)
        ? ((started as pg.QueryResult<pg.QueryResultRow>[])[1]?.rows ?? [])
        : [];
      const result = await fn(client, begun);
      await client.query("COMMIT");
      return result;
    } catch (err) {
      try {
        await client.query("ROLLBACK");
      } catch (rollbackErr) {
        // The connection is unusable; release(err) makes the pool discard it.
        broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
      }
      const sqlState = sqlStateOf(err);
      const conflict = sqlState === "40001" || sqlState === "40P01";
      if (conflict && attempt < maxAttempts) {
        await sleep(backoffMs * 2 ** (attempt - 1) * (0.5 + Math.random()));
        continue;
      }
      // A conflict that outlived our attempts stays retryable: a caller further up may still
      // try later (e.g. nak the message so it is redelivered).
      throw toDbError(err, `withTransaction (attempt ${attempt} of ${maxAttempts})`);
    } finally {
      client.release(broken);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
