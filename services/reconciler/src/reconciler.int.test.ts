// The reconciler on real NATS JetStream and PostgreSQL: unique topology prefix and database per test.
import { afterEach, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "nats";
import { Writable } from "node:stream";
import { createTopology, ensureStreams, publishEnvelope, type Topology } from "@hix/bus";
import { createPool } from "@hix/db";
import {
  AdministrativeSex,
  AnnouncementKind,
  ContactPointSystem,
  DatePrecision,
  IdentityAlertKind,
  LocateRequest,
  LocateResponse,
  NameUse,
  PatientAnnouncement,
  PurposeOfUse,
  decodeEnvelope,
  newEnvelope,
  type Envelope,
  type IdentityAlert,
  type Patient,
} from "@hix/proto";
import { createLogger } from "@hix/runtime";
import { createTestDatabase, natsUrl, uniqueName, type TestDatabase } from "@hix/testkit";
import type pg from "pg";
import { start, type RunningReconciler } from "./app.js";
import { decide, listAlerts } from "./review.js";
import { shadowRun } from "./shadow.js";

interface Fixture {
  nc: NatsConnection;
  topology: Topology;
  pool: pg.Pool;
  db: TestDatabase;
  app: RunningReconciler;
  close(): Promise<void>;
}

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

async function fixture(): Promise<Fixture> {
  const nc = await connect({ servers: await natsUrl(), name: "reconciler-test" });
  const topology = createTopology(uniqueName("rec").toLowerCase());
  const memory = { storage: "memory" as const };
  const jsm = await nc.jetstreamManager();
  await ensureStreams(jsm, topology, { in: memory, out: memory, dlq: memory });
  const db = await createTestDatabase("rec");
  const pool = createPool(db.url, { max: 4 });
  const logger = createLogger({
    service: "test",
    level: "silent",
    destination: new Writable({ write: (_c, _e, done) => done() }),
  });
  const app = await start({
    nc,
    pool,
    topology,
    logger,
    streamOptions: { in: memory, out: memory, dlq: memory },
    alertFlushMs: 200,
  });
  return {
    nc,
    topology,
    pool,
    db,
    app,
    async close() {
      await app.stop();
      for (const s of Object.values(topology.streams))
        await jsm.streams.delete(s.name).catch(() => undefined);
      await nc.drain();
      await pool.end();
      await db.drop();
    },
  };
}

function patient(
  facility: string,
  localId: string,
  p: {
    given: string;
    family: string;
    birth: [number, number, number];
    sex?: "F" | "M";
    ssn?: string;
    phone?: string;
    street?: string;
    postal?: string;
  },
): Patient {
  return {
    sourceFacility: facility,
    localPatientId: localId,
    identifiers:
      p.ssn === undefined
        ? []
        : [{ value: p.ssn, system: "http://hl7.org/fhir/sid/us-ssn", assigner: "", typeCode: "SS" }],
    names: [{ use: NameUse.OFFICIAL, family: p.family, given: [p.given], prefix: [], suffix: [], text: "" }],
    birthDate: { year: p.birth[0], month: p.birth[1], day: p.birth[2], precision: DatePrecision.DAY },
    sex: p.sex === "M" ? AdministrativeSex.MALE : AdministrativeSex.FEMALE,
    addresses: [
      {
        use: 1,
        lines: [p.street ?? "12 Elm Street"],
        city: "Springfield",
        state: "IL",
        postalCode: p.postal ?? "62701",
        country: "US",
        district: "",
      },
    ],
    telecom:
      p.phone === undefined ? [] : [{ system: ContactPointSystem.PHONE, value: p.phone, use: 0, rank: 0 }],
    birthOrder: 0,
    mothersMaidenName: "",
  };
}

function announce(p: Patient, kind = AnnouncementKind.REGISTERED, retired: string[] = []): Envelope {
  return newEnvelope({
    fromFacility: p.sourceFacility,
    purposeOfUse: PurposeOfUse.OPERATIONS,
    body: {
      $case: "patientAnnouncement",
      value: PatientAnnouncement.fromPartial({
        kind,
        patient: p,
        retiredIds: retired.map((value) => ({ value })),
        sourceEvent: "ADT^A04",
      }),
    },
  });
}

async function send(f: Fixture, e: Envelope): Promise<void> {
  await publishEnvelope(f.nc.jetstream(), f.topology.inSubject(e.fromFacility, "patient_announcement"), e);
}

async function processed(f: Fixture, n: number): Promise<void> {
  await eventually(async () => {
    const { rows } = await f.pool.query<{ n: string }>("SELECT count(*) AS n FROM mpi_processed");
    return Number(rows[0]!.n) >= n;
  });
}

async function alertsTo(f: Fixture, facility: string): Promise<IdentityAlert[]> {
  const jsm = await f.nc.jetstreamManager();
  const out: IdentityAlert[] = [];
  const info = await jsm.streams.info(f.topology.streams.out.name);
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(f.topology.streams.out.name, { seq }).catch(() => undefined);
    if (m === undefined || m.subject !== f.topology.outSubject(facility, "identity_alert")) continue;
    const env = decodeEnvelope(m.data);
    if (env.body?.$case === "identityAlert") out.push(env.body.value);
  }
  return out;
}

async function enterpriseIds(f: Fixture): Promise<Map<string, string>> {
  const { rows } = await f.pool.query<{ facility_id: string; local_id: string; enterprise_id: string }>(
    "SELECT facility_id, local_id, enterprise_id FROM mpi_records",
  );
  return new Map(rows.map((r) => [`${r.facility_id}/${r.local_id}`, r.enterprise_id]));
}

async function eventually(predicate: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const JANE = {
  given: "Jane",
  family: "Whitaker",
  birth: [1984, 3, 14] as [number, number, number],
  ssn: "123-45-6789",
  phone: "217-555-0134",
};

describe("reconciler", () => {
  it("links the same person announced by two facilities, alerts both, and leaves a different person alone", async () => {
    fx = await fixture();
    await send(fx, announce(patient("hospital-a", "A-1", JANE)));
    await send(
      fx,
      announce(patient("clinic-b", "B-7", { ...JANE, phone: "(217) 555 0134", street: "12 Elm St" })),
    );
    await send(
      fx,
      announce(
        patient("clinic-b", "B-8", {
          given: "Robert",
          family: "Okafor",
          birth: [1950, 7, 2],
          sex: "M",
          ssn: "987-65-4321",
          street: "9 Oak Road",
          postal: "62704",
        }),
      ),
    );
    await processed(fx, 3);
    const ids = await enterpriseIds(fx);
    expect(ids.get("hospital-a/A-1")).toBe(ids.get("clinic-b/B-7"));
    expect(ids.get("clinic-b/B-8")).not.toBe(ids.get("hospital-a/A-1"));

    const links = await fx.pool.query<{
      origin: string;
      rule_version: string;
      reason: { fields: unknown[] };
    }>("SELECT origin, rule_version, reason FROM mpi_links WHERE active");
    expect(links.rows).toHaveLength(1);
    expect(links.rows[0]).toMatchObject({ origin: "auto", rule_version: "fs-1" });
    expect(links.rows[0]!.reason.fields.length).toBeGreaterThan(5);

    const queue = await listAlerts(fx.pool);
    expect(queue.map((a) => a.kind)).toEqual(["cross-facility-link"]);
    for (const facility of ["hospital-a", "clinic-b"]) {
      await eventually(async () => (await alertsTo(fx!, facility)).length === 1);
      const [alert] = await alertsTo(fx, facility);
      expect(alert!.kind).toBe(IdentityAlertKind.CROSS_FACILITY_LINK);
      expect(alert!.alertId).toBe(queue[0]!.alertId);
      expect(alert!.score).toBeGreaterThan(0.99);
      // Field names only: no value of the records in the reason.
      expect(alert!.reason).not.toMatch(/Jane|Jayne|Whitaker|1984|6789|555/i);
    }
  });

  it("tells each facility about an alert once, however many handlers flush at the same time", async () => {
    fx = await fixture();
    const live = new Map<string, number>();
    const sub = fx.nc.subscribe(fx.topology.outSubject("*", "identity_alert"));
    void (async () => {
      for await (const m of sub) {
        const env = decodeEnvelope(m.data);
        if (env.body?.$case !== "identityAlert") continue;
        const key = `${env.body.value.alertId}/${env.toFacility}`;
        live.set(key, (live.get(key) ?? 0) + 1);
      }
    })();
    await send(fx, announce(patient("hospital-a", "A-1", JANE)));
    // The match raises an alert while a burst of unrelated announcements keeps every handler flushing.
    await Promise.all([
      send(fx, announce(patient("clinic-b", "B-7", JANE))),
      ...Array.from({ length: 24 }, (_, i) =>
        send(
          fx!,
          announce(
            patient("clinic-b", `X-${i}`, {
              given: `Given${i}`,
              family: `Family${i}`,
              birth: [1950 + i, 1, 2],
            }),
          ),
        ),
      ),
    ]);
    await processed(fx, 26);
    await eventually(async () => (await alertsTo(fx!, "clinic-b")).length > 0);
    await new Promise((r) => setTimeout(r, 500)); // let any late flusher publish too
    sub.unsubscribe();
    expect(live.size).toBeGreaterThan(0);
    for (const [key, n] of live) expect(n, key).toBe(1);
  });

  it("raises a duplicate alert for two records of one person at one facility", async () => {
    fx = await fixture();
    await send(fx, announce(patient("hospital-a", "A-1", JANE)));
    await send(fx, announce(patient("hospital-a", "A-2", JANE)));
    await processed(fx, 2);
    const queue = await listAlerts(fx.pool);
    expect(queue.map((a) => a.kind)).toEqual(["duplicate"]);
    await eventually(async () =>
      (await alertsTo(fx!, "hospital-a")).some((a) => a.kind === IdentityAlertKind.DUPLICATE),
    );
  });

  it("raises a conflict when a facility's record changes birth date and sex", async () => {
    fx = await fixture();
    await send(fx, announce(patient("hospital-a", "A-1", JANE)));
    await send(
      fx,
      announce(
        patient("hospital-a", "A-1", { ...JANE, birth: [1961, 11, 2], sex: "M" }),
        AnnouncementKind.UPDATED,
      ),
    );
    await processed(fx, 2);
    const queue = await listAlerts(fx.pool, { kind: "conflict" });
    expect(queue).toHaveLength(1);
    expect(queue[0]!.reason).toMatch(/sex and birthDate/);
    await eventually(async () =>
      (await alertsTo(fx!, "hospital-a")).some((a) => a.kind === IdentityAlertKind.CONFLICT),
    );
    const { rows } = await fx.pool.query<{ version: number }>("SELECT version FROM mpi_records");
    expect(rows[0]!.version).toBe(2);
  });

  it("applies an A40 merge as a link, and unmerge restores both records as separate patients", async () => {
    fx = await fixture();
    await send(fx, announce(patient("hospital-a", "A-1", JANE)));
    await send(
      fx,
      announce(patient("hospital-a", "A-9", { ...JANE, given: "J", ssn: undefined as unknown as string })),
    );
    await processed(fx, 2);
    await send(fx, announce(patient("hospital-a", "A-1", JANE), AnnouncementKind.MERGED, ["A-9"]));
    await processed(fx, 3);
    let ids = await enterpriseIds(fx);
    expect(ids.get("hospital-a/A-1")).toBe(ids.get("hospital-a/A-9"));
    const retired = await fx.pool.query<{ retired: boolean }>(
      "SELECT retired FROM mpi_records WHERE local_id = 'A-9'",
    );
    expect(retired.rows[0]!.retired).toBe(true);

    const result = await decide(fx.pool, {
      action: "unlink",
      records: [
        { facilityId: "hospital-a", localId: "A-1" },
        { facilityId: "hospital-a", localId: "A-9" },
      ],
      reviewer: "u-1042",
      reason: "merged in error: different patients",
      ruleVersion: "fs-1",
    });
    expect(result.linksChanged).toBe(1);
    ids = await enterpriseIds(fx);
    expect(ids.get("hospital-a/A-1")).not.toBe(ids.get("hospital-a/A-9"));
    const both = await fx.pool.query<{ retired: boolean }>("SELECT retired FROM mpi_records ORDER BY id");
    expect(both.rows.map((r) => r.retired)).toEqual([false, false]);
    const audit = await fx.pool.query<{ kind: string; actor: string; reason: string }>(
      "SELECT kind, actor, reason FROM mpi_events WHERE kind IN ('a40-merge', 'unlink') ORDER BY seq",
    );
    expect(audit.rows).toEqual([
      { kind: "a40-merge", actor: "hospital-a", reason: "merged by the facility (ADT^A40)" },
      { kind: "unlink", actor: "u-1042", reason: "merged in error: different patients" },
    ]);
    // Announcing A-9 again does not re-link what a reviewer separated.
    await send(
      fx,
      announce(patient("hospital-a", "A-9", { ...JANE, given: "Janet" }), AnnouncementKind.UPDATED),
    );
    await processed(fx, 4);
    ids = await enterpriseIds(fx);
    expect(ids.get("hospital-a/A-1")).not.toBe(ids.get("hospital-a/A-9"));
  });

  it("not-duplicate is remembered: the pair is never proposed again", async () => {
    fx = await fixture();
    const twinA = {
      given: "Anna",
      family: "Berg",
      birth: [2001, 5, 5] as [number, number, number],
      phone: "217-555-0199",
    };
    await send(fx, announce(patient("hospital-a", "A-1", twinA)));
    await send(fx, announce(patient("hospital-a", "A-2", { ...twinA, given: "Hanna" })));
    await processed(fx, 2);
    const [alert] = await listAlerts(fx.pool);
    expect(alert).toBeDefined();
    await decide(fx.pool, {
      action: "not-duplicate",
      alertId: alert!.alertId,
      reviewer: "u-7",
      reason: "twins, checked chart",
      ruleVersion: "fs-1",
    });
    await send(
      fx,
      announce(patient("hospital-a", "A-2", { ...twinA, given: "Hannah" }), AnnouncementKind.UPDATED),
    );
    await processed(fx, 3);
    expect(await listAlerts(fx.pool)).toEqual([]);
  });

  it("replaying the same announcements changes nothing", async () => {
    fx = await fixture();
    const envelopes = [
      announce(patient("hospital-a", "A-1", JANE)),
      announce(patient("clinic-b", "B-7", JANE)),
    ];
    for (const e of envelopes) await send(fx, e);
    await processed(fx, 2);
    const snapshot = async () => ({
      records: (
        await fx!.pool.query("SELECT id, version, enterprise_id, retired FROM mpi_records ORDER BY id")
      ).rows,
      links: (await fx!.pool.query("SELECT record_a, record_b, active FROM mpi_links ORDER BY id")).rows,
      alerts: (await fx!.pool.query("SELECT alert_id FROM mpi_alerts ORDER BY alert_id")).rows,
      events: (await fx!.pool.query("SELECT count(*) FROM mpi_events")).rows,
    });
    const before = await snapshot();
    // Past the JetStream dedupe window: same envelope ids under new message ids.
    for (const e of envelopes)
      await publishEnvelope(
        fx.nc.jetstream(),
        fx.topology.inSubject(e.fromFacility, "patient_announcement"),
        e,
        { msgId: `replay-${e.id}` },
      );
    await eventually(async () => fx!.app.stats.acked >= 4);
    expect(await snapshot()).toEqual(before);
  });

  it("answers the record locator over request/reply, never with a below-threshold guess", async () => {
    fx = await fixture();
    await send(fx, announce(patient("hospital-a", "A-1", JANE)));
    await send(fx, announce(patient("clinic-b", "B-7", JANE)));
    await processed(fx, 2);
    const ask = async (p: Patient, exclude: string[] = []) =>
      LocateResponse.decode(
        (
          await fx!.nc.request(
            fx!.topology.rpcSubject("reconciler", "locate"),
            LocateRequest.encode({
              patient: p,
              minScore: 0,
              maxHolders: 0,
              excludeFacilityIds: exclude,
            }).finish(),
            { timeout: 5000 },
          )
        ).data,
      ).holders;
    const holders = await ask(patient("er-c", "E-1", JANE), ["er-c"]);
    expect(holders.map((h) => `${h.facilityId}/${h.localPatientId}`).sort()).toEqual([
      "clinic-b/B-7",
      "hospital-a/A-1",
    ]);
    for (const h of holders) expect(h.score).toBeGreaterThan(0.99);
    // Same family name and city only: below threshold → nobody.
    expect(
      await ask(patient("er-c", "E-2", { given: "Maria", family: "Whitaker", birth: [1990, 1, 1] })),
    ).toEqual([]);
  });

  it("shadow run of a stricter rule reports what would change without changing anything", async () => {
    fx = await fixture();
    await send(fx, announce(patient("hospital-a", "A-1", JANE)));
    await send(fx, announce(patient("clinic-b", "B-7", { ...JANE, ssn: "", phone: "" })));
    await processed(fx, 2);
    const same = await shadowRun(fx.pool, "fs-1");
    expect(same.changed).toBe(0);
    expect(same.pairsCompared).toBe(1);
    const links = (await fx.pool.query("SELECT count(*)::int AS n FROM mpi_links WHERE active")).rows;
    const strict = await shadowRun(fx.pool, "fs-1-strict");
    expect(strict.pairsCompared).toBe(1);
    expect((await fx.pool.query("SELECT count(*)::int AS n FROM mpi_links WHERE active")).rows).toEqual(
      links,
    );
    expect(Object.values(strict.transitions).reduce((x, y) => x + y, 0)).toBe(1);
  });
});
