import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "@hix/runtime";
import type pg from "pg";
import { MigrationChangedError, MigrationError, MigrationFailedError, toDbError } from "./errors.js";

/** One numbered SQL file, e.g. `0003_audit_ledger.sql`. */
export interface MigrationFile {
  version: number;
  name: string;
  file: string;
  sql: string;
  /** SHA-256 (hex) of the file's bytes. */
  checksum: string;
}

export interface MigrateOptions {
  /** Folder of `NNNN_name.sql` files. */
  dir: string;
  /** Bookkeeping table (default `schema_migrations`); also keys the advisory lock. */
  table?: string;
  log?: Logger;
}

export interface MigrateResult {
  /** Files applied by this call, in order. */
  applied: Array<{ version: number; name: string }>;
  /** Versions the database has but `dir` lacks (a newer release migrated it); left alone. */
  unknown: number[];
}

const FILE_PATTERN = /^(\d+)_([A-Za-z0-9_-]+)\.sql$/;
const TABLE_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

/** The migration files of a folder, in version order. Non-`.sql` files are ignored. */
export function readMigrations(dir: string): MigrationFile[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (err) {
    throw new MigrationError("db.migrations_unreadable", `cannot read migrations folder ${dir}`, {
      cause: err,
    });
  }
  const files: MigrationFile[] = [];
  const seen = new Map<number, string>();
  for (const file of entries.filter((e) => e.endsWith(".sql")).sort()) {
    const match = FILE_PATTERN.exec(file);
    if (!match) {
      throw new MigrationError(
        "db.migration_bad_name",
        `migration file ${join(dir, file)} is not named NNNN_name.sql (digits, underscore, [A-Za-z0-9_-])`,
      );
    }
    const version = Number(match[1]);
    const other = seen.get(version);
    if (other !== undefined) {
      throw new MigrationError(
        "db.migration_duplicate",
        `migrations ${other} and ${file} in ${dir} share version ${version}`,
      );
    }
    seen.set(version, file);
    const bytes = readFileSync(join(dir, file));
    files.push({
      version,
      name: match[2] ?? "",
      file,
      sql: bytes.toString("utf8"),
      checksum: createHash("sha256").update(bytes).digest("hex"),
    });
  }
  return files.sort((a, b) => a.version - b.version);
}

/**
 * Brings the database up to the newest file in `dir`. Each pending file runs in its own
 * transaction together with its bookkeeping row, so a file is either wholly applied and
 * recorded or not at all. A session-level advisory lock makes concurrent starters (several
 * replicas booting at once) take turns: the second finds nothing left to do. An applied
 * file whose checksum or name changed stops everything before any pending file runs —
 * fix it with a new migration, never by editing an applied one.
 *
 * Files must not contain statements that refuse to run in a transaction
 * (CREATE INDEX CONCURRENTLY, VACUUM).
 */
export async function migrate(pool: pg.Pool, options: MigrateOptions): Promise<MigrateResult> {
  const table = options.table ?? "schema_migrations";
  if (!TABLE_PATTERN.test(table)) {
    throw new MigrationError(
      "db.migration_bad_table",
      `migrations table name "${table}" must match ${TABLE_PATTERN}`,
    );
  }
  const files = readMigrations(options.dir);
  const lockKey = `hix.migrate:${table}`;

  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    throw toDbError(err, "migrate: connect");
  }
  let broken: Error | undefined;
  try {
    await client.query("SELECT pg_advisory_lock(hashtext($1))", [lockKey]);
    try {
      // Under the lock, so two starters never race on CREATE TABLE IF NOT EXISTS.
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${table} (
           version    integer PRIMARY KEY,
           name       text NOT NULL,
           checksum   text NOT NULL,
           applied_at timestamptz NOT NULL DEFAULT now()
         )`,
      );
      const { rows } = await client.query<{ version: number; name: string; checksum: string }>(
        `SELECT version, name, checksum FROM ${table} ORDER BY version`,
      );
      const applied = new Map(rows.map((r) => [r.version, r]));
      const byVersion = new Map(files.map((f) => [f.version, f]));

      for (const file of files) {
        const row = applied.get(file.version);
        if (row && (row.checksum !== file.checksum || row.name !== file.name)) {
          throw new MigrationChangedError(
            "db.migration_changed",
            `migration ${file.file} in ${options.dir} differs from what was applied as version ${row.version} ` +
              `(${row.name}, sha256 ${row.checksum.slice(0, 12)}…; file now ${file.name}, sha256 ${file.checksum.slice(0, 12)}…): ` +
              "restore the applied file and put the change in a new migration",
          );
        }
      }

      const result: MigrateResult = {
        applied: [],
        unknown: rows.filter((r) => !byVersion.has(r.version)).map((r) => r.version),
      };
      for (const file of files) {
        if (applied.has(file.version)) continue;
        const started = Date.now();
        await client.query("BEGIN");
        try {
          await client.query(file.sql);
          await client.query(`INSERT INTO ${table} (version, name, checksum) VALUES ($1, $2, $3)`, [
            file.version,
            file.name,
            file.checksum,
          ]);
          await client.query("COMMIT");
        } catch (err) {
          await client.query("ROLLBACK").catch((rollbackErr: unknown) => {
            broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
          });
          const dbErr = toDbError(err, `migration ${file.file}`);
          throw new MigrationFailedError(
            "db.migration_failed",
            `migration ${file.file} in ${options.dir} failed and was rolled back: ${dbErr instanceof Error ? dbErr.message : String(dbErr)}`,
            { cause: dbErr, sqlState: (dbErr as { sqlState?: string }).sqlState },
          );
        }
        options.log?.info(
          { version: file.version, migration: file.name, ms: Date.now() - started },
          "migration applied",
        );
        result.applied.push({ version: file.version, name: file.name });
      }
      return result;
    } finally {
      if (!broken) {
        await client.query("SELECT pg_advisory_unlock(hashtext($1))", [lockKey]).catch((err: unknown) => {
          broken = err instanceof Error ? err : new Error(String(err));
        });
      }
    }
  } catch (err) {
    throw toDbError(err, "migrate");
  } finally {
    // A broken connection is discarded, which also releases its session-level lock.
    client.release(broken);
  }
}
