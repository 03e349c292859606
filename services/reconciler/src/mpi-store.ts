/**
 * SQL over the index (migrations/0001_mpi.sql). Every function takes a client inside the
 * caller's transaction. Candidates are found by indexed blocking-key lookups only.
 */
import type pg from "pg";
import { DEFAULT_PASSES, normalizeRecord, type LinkageRecord, type NormalizedRecord } from "@hix/linkage";

type Db = Pick<pg.PoolClient, "query">;

export interface StoredRecord {
  readonly id: number;
  readonly facilityId: string;
  readonly localId: string;
  readonly record: LinkageRecord;
  /** `record` normalized when it was written (migrations/0003); undefined for older rows. */
  readonly normalized: NormalizedRecord | undefined;
  readonly version: number;
  readonly enterpriseId: string;
  readonly retired: boolean;
}

interface RecordRow {
  id: string;
  facility_id: string;
  local_id: string;
  record: LinkageRecord;
  normalized: NormalizedRecord | null;
  version: number;
  enterprise_id: string;
  retired: boolean;
}

const COLUMNS = "id, facility_id, local_id, record, normalized, version, enterprise_id, retired";

function toStored(row: RecordRow): StoredRecord {
  return {
    id: Number(row.id),
    facilityId: row.facility_id,
    localId: row.local_id,
    record: row.record,
    normalized: row.normalized ?? undefined,
    version: row.version,
    enterpriseId: row.enterprise_id,
    retired: row.retired,
  };
}

/**
 * Blocks with more records than this are skipped, as in batch linkage (@hix/linkage blocking,
 * which cuts at 200). The index cuts tighter: at 1 M records the wide passes (family code +
 * birth year, order-free name codes) reach 200 for common names, and a new record then had 83
 * candidates on average, 216 at the 99th percentile — each fetched and scored on the hot path.
 * At 50 the same 1 000 probes keep every true pair the cap of 200 found (1 471 of 1 479 same-
 * person records; `pnpm bench linkage` measures this on every run), with 59 candidates on
 * average and 114 at the 99th percentile: the other passes still cover the records a skipped
 * block holds. docs/benchmarks.md, "Reconciler and linkage".
 */
export const MAX_BLOCK_SIZE = 50;

/** `<pass index>:<key>` for every DEFAULT_PASSES pass the record takes part in. */
export function blockingKeys(n: NormalizedRecord): string[] {
  const keys = new Set<string>();
  DEFAULT_PASSES.forEach((pass, i) => {
    const key = pass.key(n);
    if (key !== undefined && key !== "") keys.add(`${i}:${key}`);
  });
  return [...keys];
}

/**
 * Serializes writers whose records could match each other: two records that share a blocking
 * key take the same advisory lock, so neither can miss the other (pg_advisory_xact_lock, released
 * at commit). Locks are taken in key order; a deadlock (40P01) is retried by withTransaction.
 */
export async function lockKeys(db: Db, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  await db.query(
    "SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest($1::text[]) AS k ORDER BY 1) s",
    [keys],
  );
}

export async function findRecord(
  db: Db,
  facilityId: string,
  localId: string,
): Promise<StoredRecord | undefined> {
  const { rows } = await db.query<RecordRow>(
    `SELECT ${COLUMNS} FROM mpi_records WHERE facility_id = $1 AND local_id = $2 FOR UPDATE`,
    [facilityId, localId],
  );
  return rows[0] === undefined ? undefined : toStored(rows[0]);
}

export async function recordsById(db: Db, ids: readonly number[]): Promise<StoredRecord[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<RecordRow>(
    `SELECT ${COLUMNS} FROM mpi_records WHERE id = ANY($1::bigint[]) ORDER BY id`,
    [ids],
  );
  return rows.map(toStored);
}

/**
 * Inserts a new record, its blocking keys and its `record` event in one statement (one round
 * trip on the hot path). Undefined when (facility, local id) already exists — the caller holds
 * the advisory lock on that identity, so then it is an update.
 */
export async function insertNewRecord(
  db: Db,
  r: {
    facilityId: string;
    localId: string;
    record: LinkageRecord;
    normalized: NormalizedRecord;
    enterpriseId: string;
    keys: readonly string[];
    event: { eventId: string; actor: string; reason: string; envelopeId: string | undefined };
  },
): Promise<StoredRecord | undefined> {
  const { rows } = await db.query<RecordRow>(
    `WITH r AS (
       INSERT INTO mpi_records (facility_id, local_id, record, enterprise_id, normalized)
       VALUES ($1, $2, $3, $4, $10)
       ON CONFLICT (facility_id, local_id) DO NOTHING
       RETURNING ${COLUMNS}
     ), k AS (
       INSERT INTO mpi_blocking_keys (key, record_id) SELECT k, r.id FROM r, unnest($5::text[]) AS k
     ), e AS (
       INSERT INTO mpi_events (event_id, kind, record_a, actor, reason, envelope_id, detail)
       SELECT $6, 'record', r.id, $7, $8, $9, jsonb_build_object('version', r.version, 'record', r.record)
       FROM r
     )
     SELECT * FROM r`,
    [
      r.facilityId,
      r.localId,
      JSON.stringify(r.record),
      r.enterpriseId,
      r.keys,
      r.event.eventId,
      r.event.actor,
      r.event.reason,
      r.event.envelopeId ?? null,
      JSON.stringify(r.normalized),
    ],
  );
  return rows[0] === undefined ? undefined : toStored(rows[0]);
}

export async function updateRecord(
  db: Db,
  id: number,
  record: LinkageRecord,
  normalized: NormalizedRecord,
): Promise<StoredRecord> {
  const { rows } = await db.query<RecordRow>(
    `UPDATE mpi_records SET record = $2, normalized = $3, version = version + 1, updated_at = now()
     WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, JSON.stringify(record), JSON.stringify(normalized)],
  );
  return toStored(rows[0]!);
}

export async function setRetired(db: Db, id: number, retired: boolean): Promise<void> {
  await db.query("UPDATE mpi_records SET retired = $2, updated_at = now() WHERE id = $1", [id, retired]);
}

export async function replaceKeys(db: Db, recordId: number, keys: readonly string[]): Promise<void> {
  // Only the keys that changed: the rest stay, so the index sees no churn.
  await db.query("DELETE FROM mpi_blocking_keys WHERE record_id = $1 AND key <> ALL($2::text[])", [
    recordId,
    keys,
  ]);
  if (keys.length > 0)
    await db.query(
      "INSERT INTO mpi_blocking_keys (key, record_id) SELECT k, $2 FROM unnest($1::text[]) AS k ON CONFLICT DO NOTHING",
      [keys, recordId],
    );
}

/**
 * Records sharing at least one blocking key with `keys`, except `excludeId` and retired records.
 * One index range scan per key, each cut at MAX_BLOCK_SIZE + 1 rows; a key with more records
 * than MAX_BLOCK_SIZE is skipped (it carries no information), like batch blocking does.
 */
export async function candidates(
  db: Db,
  keys: readonly string[],
  excludeId: number | undefined,
): Promise<StoredRecord[]> {
  if (keys.length === 0) return [];
  const { rows } = await db.query<RecordRow>(
    `WITH hits AS (
       SELECT k.key, c.record_id
       FROM unnest($1::text[]) AS k(key)
       CROSS JOIN LATERAL (
         SELECT b.record_id FROM mpi_blocking_keys b WHERE b.key = k.key LIMIT $2::int + 1
       ) c
     ), usable AS (
       SELECT key FROM hits GROUP BY key HAVING count(*) <= $2::int
     ), ids AS (
       SELECT DISTINCT h.record_id FROM hits h JOIN usable u ON u.key = h.key
       WHERE h.record_id IS DISTINCT FROM $3::bigint
     )
     SELECT ${COLUMNS.split(", ")
       .map((c) => `r.${c}`)
       .join(", ")}
     FROM ids JOIN mpi_records r ON r.id = ids.record_id
     WHERE NOT r.retired`,
    [keys, MAX_BLOCK_SIZE, excludeId ?? null],
  );
  return rows.map(toStored);
}

/** A record as incremental matching compares it: its normalized form, not its source record. */
export interface Member {
  readonly id: number;
  readonly facilityId: string;
  readonly enterpriseId: string;
  readonly normalized: NormalizedRecord;
}

/** A record's neighbourhood: what one incremental match decides over, read in one statement. */
export interface Neighborhood {
  /** Records sharing a usable blocking key with it (not retired, not itself). */
  readonly candidateIds: ReadonlySet<number>;
  /** Every record of its enterprise patient and of its candidates' (retired ones included). */
  readonly members: readonly Member[];
  /** Pairs among `members` (pairKey) a reviewer ruled out (mpi_not_duplicate). */
  readonly notDuplicate: ReadonlySet<string>;
}

/**
 * The candidates of record `selfId` by blocking key (as \`candidates\`), the members of its own
 * and its candidates' enterprise patients, and the not-duplicate pairs among them — one round
 * trip, every step an index scan: keys (mpi_blocking_keys pkey), records (pkey), members
 * (mpi_records_enterprise), not-duplicate partners (pkey and mpi_not_duplicate_b).
 */
export async function neighborhood(db: Db, selfId: number, keys: readonly string[]): Promise<Neighborhood> {
  const { rows } = await db.query<{
    id: string;
    facility_id: string;
    enterprise_id: string;
    normalized: NormalizedRecord | null;
    record: LinkageRecord | null;
    candidate: boolean;
    not_duplicate: string[];
  }>(
    `WITH hits AS (
       SELECT k.key, c.record_id
       FROM unnest($1::text[]) AS k(key)
       CROSS JOIN LATERAL (
         SELECT b.record_id FROM mpi_blocking_keys b WHERE b.key = k.key LIMIT $2::int + 1
       ) c
     ), usable AS (
       SELECT key FROM hits GROUP BY key HAVING count(*) <= $2::int
     ), found AS (
       SELECT r.id, r.enterprise_id
       FROM (SELECT DISTINCT h.record_id FROM hits h JOIN usable u ON u.key = h.key) ids
       JOIN mpi_records r ON r.id = ids.record_id
       WHERE r.id <> $3::bigint AND NOT r.retired
     ), enterprises AS (
       SELECT enterprise_id FROM found
       UNION SELECT enterprise_id FROM mpi_records WHERE id = $3::bigint
     )
     SELECT m.id, m.facility_id, m.enterprise_id, m.normalized,
       -- The source record only for rows from before migrations/0003 (half the bytes otherwise).
       CASE WHEN m.normalized IS NULL THEN m.record END AS record,
       m.id IN (SELECT id FROM found) AS candidate,
       ARRAY(SELECT d.record_b FROM mpi_not_duplicate d WHERE d.record_a = m.id
             UNION ALL SELECT d.record_a FROM mpi_not_duplicate d WHERE d.record_b = m.id) AS not_duplicate
     FROM enterprises e JOIN mpi_records m ON m.enterprise_id = e.enterprise_id`,
    [keys, MAX_BLOCK_SIZE, selfId],
  );
  const members = rows.map((r): Member => ({
    id: Number(r.id),
    facilityId: r.facility_id,
    enterpriseId: r.enterprise_id,
    normalized: r.normalized ?? normalizeRecord(r.record!),
  }));
  const ids = new Set(members.map((m) => m.id));
  const notDuplicate = new Set<string>();
  for (const row of rows)
    for (const other of row.not_duplicate)
      if (ids.has(Number(other))) notDuplicate.add(pairKey(Number(row.id), Number(other)));
  return {
    candidateIds: new Set(rows.filter((r) => r.candidate).map((r) => Number(r.id))),
    members,
    notDuplicate,
  };
}

export async function clusterMembers(db: Db, enterpriseId: string): Promise<StoredRecord[]> {
  const { rows } = await db.query<RecordRow>(
    `SELECT ${COLUMNS} FROM mpi_records WHERE enterprise_id = $1 ORDER BY id`,
    [enterpriseId],
  );
  return rows.map(toStored);
}

export async function enterpriseOf(db: Db, id: number): Promise<string> {
  const { rows } = await db.query<{ enterprise_id: string }>(
    "SELECT enterprise_id FROM mpi_records WHERE id = $1",
    [id],
  );
  return rows[0]!.enterprise_id;
}

/** Pairs (lower id first) a reviewer ruled out, among `ids` × `others`. */
export async function notDuplicatePairs(
  db: Db,
  ids: readonly number[],
  others: readonly number[],
): Promise<Set<string>> {
  if (ids.length === 0 || others.length === 0) return new Set();
  const { rows } = await db.query<{ record_a: string; record_b: string }>(
    `SELECT record_a, record_b FROM mpi_not_duplicate
     WHERE (record_a = ANY($1::bigint[]) AND record_b = ANY($2::bigint[]))
        OR (record_b = ANY($1::bigint[]) AND record_a = ANY($2::bigint[]))`,
    [ids, others],
  );
  return new Set(rows.map((r) => pairKey(Number(r.record_a), Number(r.record_b))));
}

export const pairKey = (a: number, b: number): string => (a < b ? `${a}:${b}` : `${b}:${a}`);
export const ordered = (a: number, b: number): [number, number] => (a < b ? [a, b] : [b, a]);
