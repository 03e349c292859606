import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type pg from "pg";
import { createPool } from "@hix/db";
import { createLogger } from "@hix/runtime";
import { createTestDatabase, type TestDatabase } from "@hix/testkit";
import { migrateRouterSchema } from "./app.js";
import { createAuditLedger, verifyLedger, type AuditEntry } from "./audit-ledger.js";

function entry(n: number, receiver = "clinic-b"): AuditEntry {
  const id = `01J${String(n).padStart(23, "0")}`;
  return {
    occurredAt: new Date(Date.UTC(2026, 2, 1, 12, 0, 0, n)),
    envelopeId: id,
    correlationId: id,
    sender: "hospital-a",
    receiver,
    kind: "record_request",
    purpose: "PURPOSE_OF_USE_TREATMENT",
    outcome: "disclosed",
    code: "",
    patientRefHash: null,
    contentHash: Buffer.alloc(32, n % 256),
    sensitivity: n % 2 === 0 ? [] : ["HIV", "PSY"],
  };
}

describe("audit ledger append (PostgreSQL)", () => {
  let db: TestDatabase;
  let pools: pg.Pool[];
  let ids = 0;
  const newId = (): string => `row-${++ids}`;
  const logger = createLogger({ service: "audit-test", level: "silent" });

  beforeEach(async () => {
    db = await createTestDatabase("audit");
    pools = [createPool(db.url, { max: 4 }), createPool(db.url, { max: 4 })];
    await migrateRouterSchema(pools[0]!);
  });
  afterEach(async () => {
    for (const p of pools) await p.end();
    await db.drop();
  });

  it("keeps one dense chain with one row per key when two routers append overlapping rows at once", async () => {
    // No group wait, so the two routers' small transactions interleave as much as they can.
    const [a, b] = pools.map((pool) => createAuditLedger({ pool, logger, newId, groupWaitMs: 0 }));
    // Present before: rows 0-9; then both routers append 0-59 (each its own order, in small
    // batches so their transactions interleave), and each batch repeats a row within itself.
    await a!.append(Array.from({ length: 10 }, (_, n) => entry(n)));
    const work: Array<Promise<void>> = [];
    for (let n = 0; n < 60; n += 5) {
      const chunk = Array.from({ length: 5 }, (_, i) => entry(n + i));
      work.push(a!.append([...chunk, chunk[0]!]));
      work.push(b!.append([...chunk].reverse()));
      work.push(b!.append([entry(n, "clinic-c")]));
    }
    await Promise.all(work);
    await Promise.all([a!.close(), b!.close()]);

    // 60 distinct rows for clinic-b and 12 for clinic-c: verify checks seq 1..72 is one chain
    // ending at the head.
    expect(await verifyLedger(pools[0]!)).toEqual({ ok: true, rows: 72 });
    const { rows } = await pools[0]!.query<{ receiver: string; n: string }>(
      "SELECT receiver, count(*) AS n FROM audit_ledger GROUP BY receiver ORDER BY receiver",
    );
    expect(rows).toEqual([
      { receiver: "clinic-b", n: "60" },
      { receiver: "clinic-c", n: "12" },
    ]);
  });

  it("chains onto the head another router moved, and skips rows already present, one after another", async () => {
    const [a, b] = pools.map((pool) => createAuditLedger({ pool, logger, newId, groupWaitMs: 0 }));
    await a!.append([entry(0), entry(1)]); // a reads the head under its lock, then knows it
    await a!.append([entry(2)]); // on the head a wrote
    await b!.append([entry(3)]); // b moves the head
    await a!.append([entry(4)]); // a's head is stale: nothing written, then under the lock
    // A redelivery: 1 and 4 are in already. The one-statement append on a's head fails on the
    // unique key and writes nothing; the locked way skips them and writes 5.
    await a!.append([entry(1), entry(4), entry(5)]);
    await b!.append([entry(5, "clinic-c")]);
    await Promise.all([a!.close(), b!.close()]);

    expect(await verifyLedger(pools[0]!)).toEqual({ ok: true, rows: 7 });
    const { rows } = await pools[0]!.query<{ seq: string; envelope_id: string; receiver: string }>(
      "SELECT seq, envelope_id, receiver FROM audit_ledger ORDER BY seq",
    );
    expect(rows.map((r) => [Number(r.seq), Number(r.envelope_id.slice(3)), r.receiver])).toEqual([
      [1, 0, "clinic-b"],
      [2, 1, "clinic-b"],
      [3, 2, "clinic-b"],
      [4, 3, "clinic-b"],
      [5, 4, "clinic-b"],
      [6, 5, "clinic-b"],
      [7, 5, "clinic-c"],
    ]);
  });

  it("writes the rows that arrive within the group wait in one transaction, and each batch after it in another", async () => {
    const ledger = createAuditLedger({ pool: pools[0]!, logger, newId, groupWaitMs: 20 });
    // Thirty messages' rows arrive a few ms apart, as the pipeline appends them.
    const first: Array<Promise<void>> = [];
    for (let n = 0; n < 30; n++) {
      first.push(ledger.append([entry(n)]));
      if (n % 10 === 9) await new Promise((r) => setTimeout(r, 2));
    }
    await Promise.all(first);
    await ledger.append([entry(30)]);
    await ledger.close();

    // xmin is the id of the transaction that inserted the row.
    const { rows } = await pools[0]!.query<{ tx: string; n: string; first: string; last: string }>(
      "SELECT xmin::text AS tx, count(*) AS n, min(seq) AS first, max(seq) AS last FROM audit_ledger GROUP BY 1 ORDER BY 3",
    );
    expect(rows).toEqual([
      { tx: expect.any(String), n: "30", first: "1", last: "30" },
      { tx: expect.any(String), n: "1", first: "31", last: "31" },
    ]);
    expect(await verifyLedger(pools[0]!)).toEqual({ ok: true, rows: 31 });
  });

  it("looks rows up by index, not by reading the whole ledger, in a large table never analyzed", async () => {
    // 50,000 rows as a busy exchange has in a few minutes, and no statistics (autovacuum is off
    // here): a plan that relies on them reads the whole ledger on every append.
    await pools[0]!.query(
      `INSERT INTO audit_ledger (seq, id, occurred_at, envelope_id, correlation_id, sender, receiver, kind,
         purpose, outcome, code, prev_hash, row_hash)
       SELECT n, 'bulk-' || n, now(), 'env-' || n, 'env-' || n, 'hospital-a', 'clinic-b', 'record_request',
         'PURPOSE_OF_USE_TREATMENT', 'disclosed', '', '\\x00', '\\x00'
       FROM generate_series(1, 50000) AS n`,
    );
    await pools[0]!.query("UPDATE audit_chain_head SET last_seq = 50000");
    const pool = createPool(db.url, { max: 1 });
    const ledger = createAuditLedger({ pool, logger, newId, groupWaitMs: 0 });
    await ledger.append(Array.from({ length: 20 }, (_, n) => entry(n)));
    // One already present: the one-statement append fails on the unique key, then the locked
    // statement runs twice (finds entry 0, writes entry 20).
    await ledger.append([entry(0), entry(20)]);
    await ledger.close();
    await pool.end(); // the backend reports its table statistics as it exits

    // Rows read by sequential scans (seq_scan itself also counts the migration's index builds,
    // each a scan of the then empty table, whenever that backend's statistics reach the view).
    const { rows } = await pools[0]!.query<{ seq_tup_read: string; n: string }>(
      `SELECT seq_tup_read, (SELECT count(*) FROM audit_ledger WHERE seq > 50000) AS n
       FROM pg_stat_user_tables WHERE relname = 'audit_ledger'`,
    );
    expect(rows).toEqual([{ seq_tup_read: "0", n: "21" }]);
  });
});
