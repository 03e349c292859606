import { mkdirSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { HixError } from "@hix/runtime";

export interface LocalPostgres {
  readonly url: string;
  /** "external" when a configured/reachable server is used, "embedded" for PGlite. */
  readonly kind: "external" | "embedded";
  stop(): Promise<void>;
}

export async function postgresAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1500 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Uses the PostgreSQL at `url` when one is configured and answers. Otherwise runs an
 * embedded one — PGlite (PostgreSQL compiled to WebAssembly) behind its socket server,
 * reached through `pg` like any other — with its data in `dataDir/pg`. It serves one
 * statement at a time: fine for a local exchange and the demo, not for production.
 */
export async function ensurePostgres(
  url: string | undefined,
  dataDir: string,
  port: number,
): Promise<LocalPostgres> {
  if (url !== undefined) {
    if (await postgresAnswers(url)) return { url, kind: "external", stop: async () => undefined };
    throw new HixError(
      "stack.postgres_unavailable",
      `PostgreSQL does not answer at the configured URL (${redactUrl(url)})`,
    );
  }
  const { PGlite } = await import("@electric-sql/pglite");
  const { PGLiteSocketServer } = await import("@electric-sql/pglite-socket");
  const dir = join(dataDir, "pg");
  mkdirSync(dir, { recursive: true });
  const db = await PGlite.create({ dataDir: dir });
  const server = new PGLiteSocketServer({ db, port, host: "127.0.0.1", maxConnections: 64 });
  await server.start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    kind: "embedded",
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}

/** A connection URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== "") u.password = "***";
    return u.toString();
  } catch {
    return "(unparseable URL)";
  }
}
