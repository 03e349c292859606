import pg from "pg";
import { postgresUrl } from "./services.js";
import { uniqueName } from "./unique-name.js";

export interface TestDatabase {
  /** Connection URL of the new, empty database. */
  url: string;
  /** Its name (`hix_t_<prefix>_<random>`). */
  name: string;
  /** Drops it, disconnecting anyone still connected. Safe to call twice. */
  drop(): Promise<void>;
}

/**
 * A fresh database on the test PostgreSQL server, so each test file owns its schema and
 * rows. Lower-case, so it can be typed in psql without quotes.
 */
export async function createTestDatabase(prefix = "db"): Promise<TestDatabase> {
  const serverUrl = await postgresUrl();
  const name = uniqueName(prefix).toLowerCase();
  await withAdmin(serverUrl, (client) => client.query(`CREATE DATABASE ${quoteIdent(name)}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () =>
      withAdmin(serverUrl, async (client) => {
        // WITH (FORCE) (PostgreSQL 13+) ends sessions a test left open, e.g. an un-ended pool.
        await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
      }),
  };
}

async function withAdmin<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
