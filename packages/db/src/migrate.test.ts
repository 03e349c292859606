import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readMigrations } from "./migrate.js";

describe("readMigrations", () => {
  const dirs: string[] = [];
  const folder = (files: Record<string, string>): string => {
    const dir = mkdtempSync(join(tmpdir(), "hix-mig-"));
    dirs.push(dir);
    for (const [name, sql] of Object.entries(files)) writeFileSync(join(dir, name), sql);
    return dir;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it("orders by version number, not by file name, and checksums the bytes", () => {
    const dir = folder({ "10_ten.sql": "SELECT 10;", "0002_two.sql": "SELECT 2;", "README.md": "ignored" });
    const files = readMigrations(dir);
    expect(files.map((f) => [f.version, f.name])).toEqual([
      [2, "two"],
      [10, "ten"],
    ]);
    expect(files[0]?.checksum).toBe(createHash("sha256").update("SELECT 2;").digest("hex"));
  });

  it.each([
    [{ "init.sql": "" }, /not named NNNN_name\.sql/],
    [{ "0001_a b.sql": "" }, /not named/],
    [{ "0001_a.sql": "", "01_b.sql": "" }, /share version 1/],
  ])("refuses a malformed folder %j", (files, message) => {
    expect(() => readMigrations(folder(files))).toThrow(message);
  });

  it("says which folder it cannot read", () => {
    expect(() => readMigrations("/nonexistent/hix-migrations")).toThrow(/\/nonexistent\/hix-migrations/);
  });
});
