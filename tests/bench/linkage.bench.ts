// `pnpm bench linkage [--batch ENTITIES] [--mpi RECORDS] [--probes N]`
// 1. Batch dedupe: @hix/linkage linkRecords over ~100k synthetic records (records/s, pairs/s).
// 2. Incremental match: the reconciler's matchPatient (one transaction: upsert, keys, candidate
//    lookup by indexed blocking keys, score, link/alert) against an MPI of --mpi records in
//    PostgreSQL; p50/p99 latency. Baseline in the same run: a primary-key lookup round trip.
import { createPool, withTransaction } from "@hix/db";
import { linkRecords, normalizeRecord, type LinkageRecord } from "@hix/linkage";
import { newId } from "@hix/proto";
import { blockingKeys, matchPatient, migrateReconcilerSchema, ruleFor } from "@hix/reconciler";
import { createTestDatabase } from "@hix/testkit";
import { generateSynthetic } from "../eval/linkage/synthetic.js";

const arg = (name: string, fallback: number): number =>
  process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : fallback;

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const ms = (x: number): number => Math.round(x * 100) / 100;

function batch(entities: number): Record<string, unknown> {
  const records = generateSynthetic({ seed: 7, entities }).data.map((d) => d.record);
  const start = performance.now();
  const result = linkRecords(records);
  const seconds = (performance.now() - start) / 1000;
  return {
    records: records.length,
    candidatePairs: result.stats.candidatePairs,
    seconds: Math.round(seconds * 10) / 10,
    recordsPerSecond: Math.round(records.length / seconds),
    pairsPerSecond: Math.round(result.stats.candidatePairs / seconds),
    targetUnder60s: seconds < 60,
  };
}

async function incremental(size: number, probes: number): Promise<Record<string, unknown>> {
  const db = await createTestDatabase("bench_linkage");
  const pool = createPool(db.url, { max: 2 });
  try {
    await migrateReconcilerSchema(pool);
    const all = generateSynthetic({ seed: 11, entities: Math.ceil((size + probes) / 1.85) }).data.map(
      (d, i): LinkageRecord => ({ ...d.record, id: `fac-${i % 20}/${i}`, facilityId: `fac-${i % 20}` }),
    );
    const load = all.slice(0, size);
    const probe = all.slice(size, size + probes);
    process.stderr.write(`loading ${load.length} records…\n`);
    const loadStart = performance.now();
    const CHUNK = 5000;
    for (let i = 0; i < load.length; i += CHUNK) {
      const chunk = load.slice(i, i + CHUNK);
      const ids = await pool.query<{ id: string }>(
        `INSERT INTO mpi_records (facility_id, local_id, record, enterprise_id)
         SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::text[]) RETURNING id`,
        [
          chunk.map((r) => r.facilityId!),
          chunk.map((r) => r.id),
          chunk.map((r) => JSON.stringify(r)),
          chunk.map(() => newId()),
        ],
      );
      const keyRows: [string, string][] = [];
      chunk.forEach((r, j) => {
        for (const k of blockingKeys(normalizeRecord(r))) keyRows.push([k, ids.rows[j]!.id]);
      });
      await pool.query(
        "INSERT INTO mpi_blocking_keys (key, record_id) SELECT * FROM unnest($1::text[], $2::bigint[]) ON CONFLICT DO NOTHING",
        [keyRows.map((k) => k[0]), keyRows.map((k) => k[1])],
      );
      if ((i / CHUNK) % 20 === 0) process.stderr.write(`  ${i + chunk.length}\n`);
    }
    await pool.query("ANALYZE mpi_records; ANALYZE mpi_blocking_keys");
    const loadSeconds = (performance.now() - loadStart) / 1000;

    const rule = ruleFor("fs-1");
    const match: number[] = [];
    let candidates = 0;
    let linked = 0;
    for (const r of probe) {
      const t = performance.now();
      const out = await withTransaction(pool, (c) =>
        matchPatient(c, rule, { facilityId: r.facilityId!, localId: r.id, record: r, intake: "registered" }),
      );
      match.push(performance.now() - t);
      candidates += out.candidates;
      linked += out.linked;
    }
    const pk: number[] = [];
    for (let i = 0; i < probes; i++) {
      const t = performance.now();
      await pool.query("SELECT record FROM mpi_records WHERE id = $1", [1 + ((i * 7919) % size)]);
      pk.push(performance.now() - t);
    }
    match.sort((a, b) => a - b);
    pk.sort((a, b) => a - b);
    return {
      mpiRecords: size,
      loadSeconds: Math.round(loadSeconds),
      loadRecordsPerSecond: Math.round(size / loadSeconds),
      probes,
      meanCandidates: Math.round((candidates / probes) * 10) / 10,
      linkedProbes: linked,
      matchMs: { p50: ms(percentile(match, 50)), p99: ms(percentile(match, 99)), max: ms(match.at(-1)!) },
      primaryKeyLookupMs: { p50: ms(percentile(pk, 50)), p99: ms(percentile(pk, 99)) },
      ratioP50: ms(percentile(match, 50) / percentile(pk, 50)),
      targetP99Under25ms: percentile(match, 99) < 25,
    };
  } finally {
    await pool.end();
    await db.drop();
  }
}

export async function run(_args: readonly string[]): Promise<Record<string, unknown>> {
  const entities = arg("--batch", 54_000);
  const size = arg("--mpi", 200_000);
  const probes = arg("--probes", 500);
  process.stderr.write(`batch dedupe of ${entities} synthetic entities…\n`);
  const b = batch(entities);
  process.stderr.write(`incremental matching against ${size} records…\n`);
  return { batch: b, incremental: await incremental(size, probes) };
}
