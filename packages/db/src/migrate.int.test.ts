import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase, type TestDatabase } from "@hix/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MigrationChangedError, MigrationFailedError } from "./errors.js";
import { migrate } from "./migrate.js";
import { createPool, type Pool } from "./pool.js";

// Each file depends on the one before, so applying out of order would fail.
const FILES = {
  "0001_facilities.sql": "CREATE TABLE facility (id text PRIMARY KEY);",
  "0002_facility_name.sql": "ALTER TABLE facility ADD COLUMN name text NOT NULL DEFAULT '';",
  "0003_seed.sql":
    "INSERT INTO facility (id, name) VALUES ('f1', 'First');\nCREATE TABLE applied_count (n int);\nINSERT INTO applied_count VALUES (1);",
};

describe("migrate", () => {
  let db: TestDatabase;
  let pool: Pool;
  let dir: string;
  const pools: Pool[] = [];

  const write = (files: Record<string, string>): void => {
    for (const [name, sql] of Object.entries(files)) writeFileSync(join(dir, name), sql);
  };
  type Row = { version: number; name: string; applied_at: Date };
  const rows = async (): Promise<Row[]> =>
    (await pool.query<Row>("SELECT version, name, applied_at FROM schema_migrations ORDER BY version")).rows;

  beforeEach(async () => {
    db = await createTestDatabase("migrate");
    pool = createPool(db.url, { max: 2, applicationName: "hix-db-test" });
    pools.push(pool);
    dir = mkdtempSync(join(tmpdir(), "hix-mig-"));
    write(FILES);
  });
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((p) => p.end()));
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("applies the files in version order and records each with its checksum", async () => {
    const result = await migrate(pool, { dir });
    expect(result.applied).toEqual([
      { version: 1, name: "facilities" },
      { version: 2, name: "facility_name" },
      { version: 3, name: "seed" },
    ]);
    expect((await rows()).map((r) => r.version)).toEqual([1, 2, 3]);
    const { rows: checksums } = await pool.query<{ checksum: string }>(
      "SELECT checksum FROM schema_migrations",
    );
    expect(checksums.every((r) => /^[0-9a-f]{64}$/.test(r.checksum))).toBe(true);
    const { rows: facilities } = await pool.query("SELECT id, name FROM facility");
    expect(facilities).toEqual([{ id: "f1", name: "First" }]);
  });

  it("does nothing on a second run, and applies only files added since", async () => {
    await migrate(pool, { dir });
    const before = await rows();
    expect((await migrate(pool, { dir })).applied).toEqual([]);
    expect(await rows()).toEqual(before);

    write({ "0004_more.sql": "ALTER TABLE facility ADD COLUMN kind text;" });
    expect((await migrate(pool, { dir })).applied).toEqual([{ version: 4, name: "more" }]);
  });

  it("applies each file once when two starters migrate at the same time", async () => {
    const other = createPool(db.url, { max: 2 });
    pools.push(other);
    const [a, b] = await Promise.all([migrate(pool, { dir }), migrate(other, { dir })]);
    expect(a.applied.length + b.applied.length).toBe(3);
    const { rows: count } = await pool.query<{ n: string }>("SELECT count(*) AS n FROM applied_count");
    expect(count[0]?.n).toBe("1");
    expect((await rows()).map((r) => r.version)).toEqual([1, 2, 3]);
  });

  it("refuses to run when an applied file was changed, before applying anything new", async () => {
    await migrate(pool, { dir });
    write({
      "0002_facility_name.sql": "ALTER TABLE facility ADD COLUMN name text;",
      "0004_more.sql": "CREATE TABLE should_not_exist (x int);",
    });
    const err = await migrate(pool, { dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationChangedError);
    expect(err).toMatchObject({ code: "db.migration_changed", retryable: false });
    expect((err as Error).message).toContain("0002_facility_name.sql");
    const { rows: tables } = await pool.query("SELECT 1 FROM pg_tables WHERE tablename = 'should_not_exist'");
    expect(tables).toHaveLength(0);
  });

  it("rolls back a failing file whole and stops there", async () => {
    write({
      "0004_broken.sql": "CREATE TABLE half_done (x int);\nSELECT * FROM no_such_table;",
      "0005_after.sql": "CREATE TABLE after_broken (x int);",
    });
    const err = await migrate(pool, { dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationFailedError);
    expect(err).toMatchObject({ code: "db.migration_failed", sqlState: "42P01" });
    expect((await rows()).map((r) => r.version)).toEqual([1, 2, 3]);
    const { rows: tables } = await pool.query(
      "SELECT tablename FROM pg_tables WHERE tablename IN ('half_done', 'after_broken')",
    );
    expect(tables).toHaveLength(0);
    // The lock was released: a fixed folder migrates on the same pool.
    rmSync(join(dir, "0004_broken.sql"));
    expect((await migrate(pool, { dir })).applied).toEqual([{ version: 5, name: "after" }]);
  });

  it("keeps separate books per table name", async () => {
    await migrate(pool, { dir, table: "schema_migrations" });
    const other = mkdtempSync(join(tmpdir(), "hix-mig-"));
    try {
      writeFileSync(join(other, "0001_audit.sql"), "CREATE TABLE audit_row (id bigint);");
      const result = await migrate(pool, { dir: other, table: "audit_migrations" });
      expect(result.applied).toEqual([{ version: 1, name: "audit" }]);
      // The first table's version 1 is another file; it does not clash.
      expect(result.unknown).toEqual([]);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
