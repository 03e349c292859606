import pg from "pg";

export interface PoolOptions {
  /** Most connections the pool opens (default 10). */
  max?: number;
  /** Shown in pg_stat_activity.application_name, so operators can tell services apart. */
  applicationName?: string;
  /** Close idle connections after this long (default 30 s). */
  idleTimeoutMillis?: number;
  /** Give up connecting after this long (default 10 s). */
  connectionTimeoutMillis?: number;
  /** Called when an idle connection fails (e.g. the server restarted); the pool drops that connection. */
  onError?: (err: Error) => void;
}

/** A pg pool for one service. End it with `pool.end()` on stop. */
export function createPool(url: string, options: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    idleTimeoutMillis: options.idleTimeoutMillis ?? 30_000,
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 10_000,
    ...(options.applicationName === undefined ? {} : { application_name: options.applicationName }),
  });
  // Without a listener an idle client's error would crash the process (EventEmitter rule).
  pool.on("error", (err) => options.onError?.(err));
  return pool;
}

export type { Pool, PoolClient } from "pg";
