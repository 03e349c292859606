// `pnpm bench linkage [--batch ENTITIES] [--mpi RECORDS] [--probes N] [--warmup-probes N]`
// 1. Batch dedupe: @hix/linkage linkRecords over ~100k synthetic records (records/s, pairs/s).
// 2. Incremental match: the reconciler's matchPatient (one transaction: upsert, keys, candidate
//    lookup by indexed blocking keys, score, link/alert) against an MPI of --mpi records in
//    PostgreSQL; p50/p99 latency. Baseline in the same run: a primary-key lookup round trip.
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { createPool, withTransaction } from "@hix/db";
import { linkRecords, normalizeRecord, type LinkageRecord } from "@hix/linkage";
import { newId } from "@hix/proto";
import {
  blockingKeys,
  matchPatient,
  MAX_BLOCK_SIZE,
  migrateReconcilerSchema,
  neighborhood,
  ruleFor,
} from "@hix/reconciler";
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

/** One text-format COPY field: backslash, tab, newline and carriage return escaped (COPY … FROM STDIN). */
const copyField = (v: string | number): string =>
  typeof v === "number" ? String(v) : v.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]!);
const COPY_ESCAPES: Record<string, string> = { "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" };

/** Streams rows into `COPY <target> FROM STDIN` on one connection, 1 000 rows per write. */
async function copyRows(
  pool: pg.Pool,
  target: string,
  rows: Iterable<readonly (string | number)[]>,
): Promise<number> {
  const client = await pool.connect();
  try {
    const sink = client.query(copyFrom(`COPY ${target} FROM STDIN`));
    let n = 0;
    async function* lines(): AsyncGenerator<string> {
      let buf: string[] = [];
      for (const row of rows) {
        buf.push(row.map(copyField).join("\t"));
        n++;
        if (buf.length === 1000) {
          yield buf.join("\n") + "\n";
          buf = [];
        }
      }
      if (buf.length > 0) yield buf.join("\n") + "\n";
    }
    await pipeline(Readable.from(lines()), sink);
    return n;
  } finally {
    client.release();
  }
}

const LOADED_TABLES = ["mpi_records", "mpi_blocking_keys", "mpi_events", "mpi_links"];

/**
 * PostgreSQL's bulk-load advice ("Populating a Database"): load into tables without indexes and
 * foreign keys, then build them once — a sorted index build instead of ~10 M random b-tree
 * inserts and row-by-row FK checks. The definitions are read from the catalog, so the loaded
 * schema ends exactly as the migrations made it. Returns the function that restores them.
 */
async function dropIndexesAndConstraints(
  pool: pg.Pool,
  tables: readonly string[],
): Promise<() => Promise<void>> {
  const { rows: constraints } = await pool.query<{ tbl: string; name: string; def: string; fk: boolean }>(
    `SELECT conrelid::regclass::text AS tbl, conname AS name, pg_get_constraintdef(oid) AS def,
            contype = 'f' AS fk
     FROM pg_constraint
     WHERE (conrelid = ANY($1::regclass[]) OR confrelid = ANY($1::regclass[])) AND contype IN ('p', 'u', 'f')`,
    [tables],
  );
  const { rows: indexes } = await pool.query<{ def: string; name: string }>(
    `SELECT indexrelid::regclass::text AS name, pg_get_indexdef(indexrelid) AS def FROM pg_index
     WHERE indrelid = ANY($1::regclass[]) AND indexrelid NOT IN (SELECT conindid FROM pg_constraint)`,
    [tables],
  );
  // Foreign keys first (they depend on the referenced unique indexes), then the rest.
  for (const c of [...constraints].sort((x, y) => Number(y.fk) - Number(x.fk)))
    await pool.query(`ALTER TABLE ${c.tbl} DROP CONSTRAINT ${c.name}`);
  for (const i of indexes) await pool.query(`DROP INDEX ${i.name}`);
  return async () => {
    const client = await pool.connect();
    try {
      await client.query("SET maintenance_work_mem = '512MB'");
      for (const c of [...constraints].sort((x, y) => Number(x.fk) - Number(y.fk)))
        await client.query(`ALTER TABLE ${c.tbl} ADD CONSTRAINT ${c.name} ${c.def}`);
      for (const i of indexes) await client.query(i.def);
    } finally {
      client.release();
    }
  };
}

interface Loaded {
  readonly seconds: number;
  readonly records: number;
  readonly keyRows: number;
  readonly links: number;
  readonly oversizedKeys: number;
}

/** A generated record (with its facility and local id) and the person (entity) it belongs to. */
interface Person {
  readonly record: LinkageRecord & { readonly id: string; readonly facilityId: string };
  readonly entity: string;
}

/**
 * Bulk-loads `records` with COPY: the records (ids 1…n, one enterprise id per synthetic person,
 * as if earlier matching and review had linked them), their blocking keys, and for each person a chain of review links with their
 * events — the state an MPI of this size is in after it has been running a while.
 */
async function loadMpi(
  pool: pg.Pool,
  records: readonly Person[],
): Promise<{ loaded: Loaded; keyRows: readonly (readonly [string, number])[] }> {
  const start = performance.now();
  const step = (what: string): void => {
    process.stderr.write(`  ${what} (${Math.round((performance.now() - start) / 1000)} s)\n`);
  };
  const restore = await dropIndexesAndConstraints(pool, LOADED_TABLES);
  const enterprise = new Map<string, string>();
  const keyRows: (readonly [string, number])[] = [];
  const chains: [number, number][] = [];
  const lastOf = new Map<string, number>();
  await copyRows(
    pool,
    "mpi_records (id, facility_id, local_id, record, enterprise_id, normalized)",
    (function* () {
      for (let i = 0; i < records.length; i++) {
        const { record, entity } = records[i]!;
        const id = i + 1;
        let eid = enterprise.get(entity);
        if (eid === undefined) enterprise.set(entity, (eid = newId()));
        const previous = lastOf.get(entity);
        if (previous !== undefined) chains.push([previous, id]);
        lastOf.set(entity, id);
        const normalized = normalizeRecord(record);
        for (const k of blockingKeys(normalized)) keyRows.push([k, id]);
        yield [id, record.facilityId, record.id, JSON.stringify(record), eid, JSON.stringify(normalized)];
        if (id % 200_000 === 0) process.stderr.write(`  records ${id}\n`);
      }
    })(),
  );
  await pool.query("SELECT setval('mpi_records_id_seq', $1)", [records.length]);
  step(`${records.length} records`);
  await copyRows(pool, "mpi_blocking_keys (key, record_id)", keyRows);
  step(`${keyRows.length} key rows`);
  const eventIds = chains.map(() => newId());
  await copyRows(
    pool,
    "mpi_events (event_id, kind, record_a, record_b, score, actor, reason)",
    chains.map(([a, b], i) => [eventIds[i]!, "review-link", a, b, 1, "bench-loader", "bulk load"]),
  );
  await copyRows(
    pool,
    "mpi_links (record_a, record_b, score, origin, rule_version, reason, event_id)",
    chains.map(([a, b], i) => [a, b, 1, "review", "fs-1", "{}", eventIds[i]!]),
  );
  step(`${chains.length} links and events`);
  await restore();
  step("indexes and constraints rebuilt");
  await pool.query("VACUUM ANALYZE mpi_records");
  await pool.query("VACUUM ANALYZE mpi_blocking_keys");
  await pool.query("ANALYZE mpi_links; ANALYZE mpi_events");
  // Flush the load's dirty pages now: otherwise the checkpoint after 1.5 GB of COPY and index
  // builds runs during the probes and its writes land in their COMMITs — a bulk-load artifact,
  // not the steady state of an index that has been running a while.
  await pool.query("CHECKPOINT");
  const { rows } = await pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM (SELECT key FROM mpi_blocking_keys GROUP BY key HAVING count(*) > $1) s`,
    [MAX_BLOCK_SIZE],
  );
  return {
    loaded: {
      seconds: (performance.now() - start) / 1000,
      records: records.length,
      keyRows: keyRows.length,
      links: chains.length,
      oversizedKeys: Number(rows[0]!.n),
    },
    keyRows,
  };
}

/**
 * What the block cap costs in recall, at this index size, computed in memory from the loaded
 * key rows: for each probe, the candidates its keys find when blocks over `cap` are skipped,
 * and how many of the loaded records of the same synthetic person are among them.
 */
function blockingRecall(
  load: readonly { entity: string }[],
  probe: readonly { entity: string; record: LinkageRecord }[],
  keyRows: readonly (readonly [string, number])[],
  caps: readonly number[],
): Record<string, unknown> {
  const probeKeys = probe.map((p) => blockingKeys(normalizeRecord(p.record)));
  const wanted = new Set(probeKeys.flat());
  const blocks = new Map<string, number[]>();
  for (const [key, id] of keyRows)
    if (wanted.has(key)) {
      const b = blocks.get(key);
      if (b === undefined) blocks.set(key, [id]);
      else b.push(id);
    }
  const probeEntities = new Set(probe.map((p) => p.entity));
  const sameEntity = new Map<string, number[]>();
  load.forEach((r, i) => {
    if (probeEntities.has(r.entity)) sameEntity.set(r.entity, [...(sameEntity.get(r.entity) ?? []), i + 1]);
  });
  return Object.fromEntries(
    caps.map((cap) => {
      const sizes: number[] = [];
      let truePairs = 0;
      let found = 0;
      probe.forEach((p, j) => {
        const ids = new Set<number>();
        for (const k of probeKeys[j]!) {
          const b = blocks.get(k);
          if (b !== undefined && b.length <= cap) for (const id of b) ids.add(id);
        }
        sizes.push(ids.size);
        for (const id of sameEntity.get(p.entity) ?? []) {
          truePairs++;
          if (ids.has(id)) found++;
        }
      });
      sizes.sort((a, b) => a - b);
      return [
        `cap${cap}`,
        {
          meanCandidates: ms(sizes.reduce((a, b) => a + b, 0) / sizes.length),
          p99Candidates: percentile(sizes, 99),
          samePersonRecords: truePairs,
          amongCandidates: found,
        },
      ];
    }),
  );
}

/**
 * A client that times each statement by its first words, so the figures say where a match's
 * time goes (round trips, and time in PostgreSQL vs in Node).
 */
function timedClient(client: pg.PoolClient, into: Map<string, number[]>): Pick<pg.PoolClient, "query"> {
  const label = (sql: string): string =>
    sql
      .replace(/\s+/g, " ")
      .trim()
      .replace(/^WITH .*?\) (SELECT|INSERT|UPDATE)/, "WITH … $1")
      .slice(0, 48);
  return {
    query: (async (text: string, values?: unknown[]) => {
      const t = performance.now();
      try {
        return await client.query(text, values);
      } finally {
        const key = label(text);
        const list = into.get(key) ?? [];
        list.push(performance.now() - t);
        into.set(key, list);
      }
    }) as pg.PoolClient["query"],
  };
}

/**
 * Generates the population, COPY-loads all but the probes into the MPI and measures blocking
 * recall. Returns only the probes: the million generated records and their key rows stay
 * here, so they can be collected before the probes are timed.
 */
async function populate(
  pool: pg.Pool,
  size: number,
  probes: number,
): Promise<{ probe: Person[]; loaded: Loaded; recall: Record<string, unknown> }> {
  // Probes are spread over the population (every `stride`-th record), so like real traffic
  // some are new people and most are people the index already holds under other records.
  const stride = Math.floor((size + probes) / probes);
  const all = generateSynthetic({ seed: 11, entities: Math.ceil((size + probes) / 1.8) })
    .data.slice(0, size + probes)
    .map((d, i) => ({
      entity: d.entity,
      record: { ...d.record, id: `fac-${i % 20}/${i}`, facilityId: `fac-${i % 20}` },
    }));
  const probe = all.filter((_, i) => i % stride === stride - 1).slice(0, probes);
  const load = all.filter((_, i) => i % stride !== stride - 1 || i >= stride * probes);
  process.stderr.write(`loading ${load.length} records with COPY…\n`);
  const { loaded, keyRows } = await loadMpi(pool, load);
  process.stderr.write(`  loaded in ${Math.round(loaded.seconds)} s\n`);
  const recall = blockingRecall(load, probe, keyRows, [...new Set([MAX_BLOCK_SIZE, 200])]);
  return { probe, loaded, recall };
}

async function incremental(size: number, probes: number, warmup: number): Promise<Record<string, unknown>> {
  const db = await createTestDatabase("bench_linkage");
  const pool = createPool(db.url, { max: 2 });
  try {
    await migrateReconcilerSchema(pool);
    const { probe: heldOut, loaded, recall } = await populate(pool, size, warmup + probes);
    // A reconciler holds its working set, not the generated population (2.4 GiB of heap here):
    // collected now, its GC pauses (10–15 ms, 64 in 1,000 probes) are not timed as matches.
    // `pnpm bench` runs node with --expose-gc.
    const heapBeforeMb = Math.round(process.memoryUsage().heapUsed / 2 ** 20);
    (globalThis as { gc?: () => void }).gc?.();
    const heapMb = Math.round(process.memoryUsage().heapUsed / 2 ** 20);
    process.stderr.write(`  bench heap ${heapBeforeMb} MiB after loading, ${heapMb} MiB while probing\n`);

    const rule = ruleFor("fs-1");
    // Warm-up: the first matches run on cold code and caches (JIT in Node; PostgreSQL's backend
    // caches and the pages of the blocks they read): over the first 400 of 1,000 timed probes the
    // p50 fell from 8.9 to 5.2 ms. A reconciler that has been running is warm, so these are
    // matched like the rest but not timed.
    const matchOne = (c: Pick<pg.PoolClient, "query">, r: Person) =>
      matchPatient(c, rule, {
        facilityId: r.record.facilityId,
        localId: r.record.id,
        record: r.record,
        intake: "registered",
      });
    for (const r of heldOut.slice(0, warmup)) await withTransaction(pool, (c) => matchOne(c, r));
    const probe = heldOut.slice(warmup);
    const match: number[] = [];
    const pk: number[] = [];
    const statements = new Map<string, number[]>();
    let inDb = 0;
    let candidates = 0;
    let linked = 0;
    let alerts = 0;
    // Per probe: total, in statements, in Node (inside matchPatient, outside statements), and
    // BEGIN + COMMIT + pool checkout (outside matchPatient); with its candidate count.
    const split: { total: number; db: number; node: number; commit: number; candidates: number }[] = [];
    // WAL written and checkpoints started during the probes: what each COMMIT has to flush.
    const walAndCheckpoints = async (): Promise<{ lsn: string; checkpoints: number }> => {
      const { rows } = await pool.query<{ lsn: string; checkpoints: string }>(
        `SELECT pg_current_wal_lsn()::text AS lsn,
                (SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter) AS checkpoints`,
      );
      return { lsn: rows[0]!.lsn, checkpoints: Number(rows[0]!.checkpoints) };
    };
    const walBefore = await walAndCheckpoints();
    // Interleaved with a primary-key lookup, so the baseline sees the same machine moments.
    for (const [i, r] of probe.entries()) {
      const before = [...statements.values()].reduce((s, l) => s + l.reduce((a, b) => a + b, 0), 0);
      const t = performance.now();
      let inside = 0;
      const out = await withTransaction(pool, async (c) => {
        const s = performance.now();
        try {
          return await matchOne(timedClient(c, statements), r);
        } finally {
          inside = performance.now() - s;
        }
      });
      const total = performance.now() - t;
      match.push(total);
      const inStatements =
        [...statements.values()].reduce((s, l) => s + l.reduce((a, b) => a + b, 0), 0) - before;
      inDb += inStatements;
      split.push({
        total,
        db: inStatements,
        node: inside - inStatements,
        commit: total - inside,
        candidates: out.candidates,
      });
      candidates += out.candidates;
      linked += out.linked;
      alerts += out.alerts;
      const p = performance.now();
      await pool.query("SELECT record FROM mpi_records WHERE id = $1", [1 + ((i * 7919) % size)]);
      pk.push(performance.now() - p);
    }
    const walAfter = await walAndCheckpoints();
    const { rows: walRows } = await pool.query<{ bytes: string }>(
      "SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn) AS bytes",
      [walAfter.lsn, walBefore.lsn],
    );
    // The PK lookups write nothing, so this is the matches' WAL (full-page images included).
    const walPerMatch = Math.round(Number(walRows[0]!.bytes) / probes);
    // The plan of one neighbourhood read at this size (the last probe's, after its match).
    const last = probe.at(-1)!;
    const lastId = (
      await pool.query<{ id: string }>(
        "SELECT id FROM mpi_records WHERE facility_id = $1 AND local_id = $2",
        [last.record.facilityId, last.record.id],
      )
    ).rows[0]!.id;
    const plan: string[] = [];
    await neighborhood(
      {
        query: (async (text: string, values?: unknown[]) => {
          const { rows } = await pool.query<{ "QUERY PLAN": string }>(
            `EXPLAIN (ANALYZE, BUFFERS) ${text}`,
            values,
          );
          plan.push(...rows.map((r) => r["QUERY PLAN"]));
          return { rows: [] };
        }) as pg.PoolClient["query"],
      },
      Number(lastId),
      blockingKeys(normalizeRecord(last.record)),
    );
    process.stderr.write(`EXPLAIN ANALYZE of the neighbourhood read (last probe):\n${plan.join("\n")}\n`);
    match.sort((a, b) => a - b);
    pk.sort((a, b) => a - b);
    const total = match.reduce((a, b) => a + b, 0);
    const mean = (f: (x: (typeof split)[number]) => number, xs: typeof split): number =>
      ms(xs.reduce((a, x) => a + f(x), 0) / xs.length);
    const breakdown = (xs: typeof split) => ({
      matches: xs.length,
      total: mean((x) => x.total, xs),
      statements: mean((x) => x.db, xs),
      node: mean((x) => x.node, xs),
      beginCommit: mean((x) => x.commit, xs),
      candidates: mean((x) => x.candidates, xs),
    });
    const slowest = [...split]
      .sort((a, b) => b.total - a.total)
      .slice(0, Math.max(1, Math.ceil(probes / 50)));
    return {
      mpiRecords: size,
      benchHeapMiBWhileProbing: heapMb,
      load: {
        seconds: Math.round(loaded.seconds),
        recordsPerSecond: Math.round(size / loaded.seconds),
        keyRows: loaded.keyRows,
        links: loaded.links,
        keysOverMaxBlock: loaded.oversizedKeys,
      },
      probes,
      warmupProbes: warmup,
      blockingRecall: recall,
      meanCandidates: Math.round((candidates / probes) * 10) / 10,
      linkedProbes: linked,
      alerts,
      matchMs: { p50: ms(percentile(match, 50)), p99: ms(percentile(match, 99)), max: ms(match.at(-1)!) },
      primaryKeyLookupMs: { p50: ms(percentile(pk, 50)), p99: ms(percentile(pk, 99)), max: ms(pk.at(-1)!) },
      ratioP50: ms(percentile(match, 50) / percentile(pk, 50)),
      targetP99Under25ms: percentile(match, 99) < 25,
      // Where a match's time goes: statements inside matchPatient (BEGIN/COMMIT excluded) and
      // the rest (BEGIN, COMMIT, pool, normalize and score in Node).
      roundTripsPerMatch: ms([...statements.values()].reduce((s, l) => s + l.length, 0) / probes + 2),
      meanMs: { total: ms(total / probes), statements: ms(inDb / probes), rest: ms((total - inDb) / probes) },
      // Where the time goes: every match, and the slowest 2 % (what the p99 is made of).
      splitMs: { all: breakdown(split), slowest2Percent: breakdown(slowest) },
      walBytesPerMatch: walPerMatch,
      checkpointsDuringProbes: walAfter.checkpoints - walBefore.checkpoints,
      statements: Object.fromEntries(
        [...statements.entries()]
          .sort((x, y) => y[1].reduce((a, b) => a + b, 0) - x[1].reduce((a, b) => a + b, 0))
          .map(([k, l]) => {
            l.sort((a, b) => a - b);
            return [
              k,
              { perMatch: ms(l.length / probes), p50: ms(percentile(l, 50)), p99: ms(percentile(l, 99)) },
            ];
          }),
      ),
    };
  } finally {
    await pool.end();
    await db.drop();
  }
}

export async function run(_args: readonly string[]): Promise<Record<string, unknown>> {
  const entities = arg("--batch", 54_000);
  const size = arg("--mpi", 1_000_000);
  const probes = arg("--probes", 1000);
  const warmup = arg("--warmup-probes", 200);
  process.stderr.write(`batch dedupe of ${entities} synthetic entities…\n`);
  const b = batch(entities);
  process.stderr.write(`incremental matching against ${size} records…\n`);
  return { batch: b, incremental: await incremental(size, probes, warmup) };
}
