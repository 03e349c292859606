// matchPatient on real PostgreSQL, without the bus: the decisions one incremental match makes
// in memory over its neighbourhood (candidates and both sides' enterprise patients) must keep
// the cluster guard — a record that matches a father and his son joins one of them, never both.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type pg from "pg";
import { createPool, withTransaction } from "@hix/db";
import { normalizeRecord, type LinkageRecord } from "@hix/linkage";
import { createTestDatabase, type TestDatabase } from "@hix/testkit";
import { migrateReconcilerSchema } from "./app.js";
import { matchPatient, type MatchOutcome } from "./matcher.js";
import { ruleFor } from "./rules.js";

let db: TestDatabase;
let pool: pg.Pool;
beforeAll(async () => {
  db = await createTestDatabase("matcher");
  pool = createPool(db.url, { max: 2 });
  await migrateReconcilerSchema(pool);
});
afterAll(async () => {
  await pool.end();
  await db.drop();
});

const rule = ruleFor("fs-1");
const household = {
  family: "Carter",
  addressLine: "41 Juniper Road",
  city: "Springfield",
  state: "IL",
  postalCode: "62704",
  phone: "2175550143",
  // The son registered under his father's SSN: a data error that happens, and what makes the
  // record below a `match` for both of them.
  ssn: "412558937",
  sex: "M",
} as const;

const announce = (facilityId: string, localId: string, r: Omit<LinkageRecord, "id">): Promise<MatchOutcome> =>
  withTransaction(pool, (c) =>
    matchPatient(c, rule, { facilityId, localId, record: { id: localId, ...r }, intake: "registered" }),
  );

const enterpriseOf = async (id: number): Promise<string> =>
  (await pool.query<{ e: string }>("SELECT enterprise_id AS e FROM mpi_records WHERE id = $1", [id])).rows[0]!
    .e;

describe("matchPatient", () => {
  it("links a record to the son or the father, never both: the Jr/Sr guard holds across clusters", async () => {
    const jr = await announce("fac-a", "J1", { ...household, given: "Walter", birthDate: "1991-03-14" });
    const sr = await announce("fac-b", "S1", { ...household, given: "Walter", birthDate: "1963-08-02" });
    expect(sr.linked).toBe(0);
    expect(await enterpriseOf(jr.recordId)).not.toBe(await enterpriseOf(sr.recordId));

    // Same name and household, no birth date: as close to the son as to the father.
    const third = await announce("fac-c", "X1", { ...household, given: "Walter" });
    expect(third).toMatchObject({ candidates: 2, linked: 1, alerts: 2 });
    const e3 = await enterpriseOf(third.recordId);
    const joined = [await enterpriseOf(jr.recordId), await enterpriseOf(sr.recordId)].filter((e) => e === e3);
    expect(joined).toHaveLength(1);
    const links = await pool.query("SELECT 1 FROM mpi_links WHERE active");
    expect(links.rowCount).toBe(1);

    const { rows } = await pool.query<{ reason: string; auto_linked: boolean }>(
      "SELECT reason, auto_linked FROM mpi_alerts WHERE record_a = $1 OR record_b = $1 ORDER BY raised_at, alert_id",
      [third.recordId],
    );
    expect(rows.map((r) => r.auto_linked).sort()).toEqual([false, true]);
    expect(rows.find((r) => !r.auto_linked)?.reason).toMatch(/^match not linked \(guard possible-jr-sr/);
  });

  it("stores the normalized record with each version, and matches rows written before it was stored", async () => {
    const first = await announce("fac-a", "N1", {
      given: "Margaret",
      family: "O'Neill",
      birthDate: "1950-02-11",
      postalCode: "62701",
      sex: "F",
    });
    const stored = async (id: number): Promise<unknown> =>
      (await pool.query<{ n: unknown }>("SELECT normalized AS n FROM mpi_records WHERE id = $1", [id]))
        .rows[0]!.n;
    const asStored = (r: LinkageRecord): unknown => JSON.parse(JSON.stringify(normalizeRecord(r)));
    const v1: LinkageRecord = {
      id: "N1",
      given: "Margaret",
      family: "O'Neill",
      birthDate: "1950-02-11",
      postalCode: "62701",
      sex: "F",
    };
    expect(await stored(first.recordId)).toEqual(asStored(v1));

    // A new version rewrites it along with the record.
    const v2 = { ...v1, postalCode: "62702" };
    await announce("fac-a", "N1", v2);
    expect(await stored(first.recordId)).toEqual(asStored(v2));

    // A row from before migrations/0003 (normalized NULL) is normalized when read: Peggy is a
    // nickname of Margaret, which only the normalized form knows.
    await pool.query("UPDATE mpi_records SET normalized = NULL WHERE id = $1", [first.recordId]);
    const other = await announce("fac-b", "N2", { ...v2, given: "Peggy" });
    expect(other.candidates).toBe(1);
    expect(other.linked).toBe(1);
    expect(await enterpriseOf(other.recordId)).toBe(await enterpriseOf(first.recordId));
  });
});
