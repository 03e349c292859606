import pg from "pg";
import { describe, expect, it } from "vitest";
import { postgresUrl } from "./services.js";
import { createTestDatabase } from "./test-database.js";

async function databaseExists(name: string): Promise<boolean> {
  const admin = new pg.Client({ connectionString: await postgresUrl() });
  await admin.connect();
  try {
    const { rowCount } = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    return rowCount === 1;
  } finally {
    await admin.end();
  }
}

describe("createTestDatabase", () => {
  it("creates a usable database and drops it, even with a session still open", async () => {
    const db = await createTestDatabase("tk");
    expect(db.name).toMatch(/^hix_t_tk_[0-9a-f]{12}$/);
    expect(await databaseExists(db.name)).toBe(true);

    const client = new pg.Client({ connectionString: db.url });
    client.on("error", () => undefined); // the forced drop ends this session
    await client.connect();
    const { rows } = await client.query<{ db: string }>("SELECT current_database() AS db");
    expect(rows[0]?.db).toBe(db.name);

    await db.drop();
    expect(await databaseExists(db.name)).toBe(false);
    await db.drop(); // idempotent
    await client.end().catch(() => undefined);
  });

  it("gives each caller its own database", async () => {
    const [a, b] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    try {
      expect(a.name).not.toBe(b.name);
    } finally {
      await Promise.all([a.drop(), b.drop()]);
    }
  });
});
