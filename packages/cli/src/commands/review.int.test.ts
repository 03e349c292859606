// hix review list|show|decide|shadow, run as child processes against a reconciler's real index.
import { Writable } from "node:stream";
import { connect, type NatsConnection } from "nats";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTopology, ensureStreams, publishEnvelope, type Topology } from "@hix/bus";
import { AnnouncementKind, Patient, PurposeOfUse, newEnvelope } from "@hix/proto";
import { start, type RunningReconciler } from "@hix/reconciler";
import { createLogger } from "@hix/runtime";
import { createTestDatabase, natsUrl, uniqueName, type TestDatabase } from "@hix/testkit";
import { runHix } from "../test-support/run-hix.js";

let nc: NatsConnection;
let topology: Topology;
let db: TestDatabase;
let pool: pg.Pool;
let app: RunningReconciler;
let alertId: string;

const person = (localId: string, given: string) =>
  Patient.fromPartial({
    sourceFacility: "clinic-a",
    localPatientId: localId,
    identifiers: [{ value: localId, typeCode: "MR", system: "urn:clinic-a" }],
    names: [{ given: [given], family: "Quillfeather" }],
    birthDate: { year: 1961, month: 4, day: 9, precision: 3 },
    sex: 2,
    addresses: [{ lines: ["14 Larkspur Lane"], city: "Dover", state: "DE", postalCode: "19901" }],
  });

beforeAll(async () => {
  nc = await connect({ servers: await natsUrl() });
  topology = createTopology(uniqueName("review").toLowerCase());
  const memory = { storage: "memory" as const };
  await ensureStreams(await nc.jetstreamManager(), topology, { in: memory, out: memory, dlq: memory });
  db = await createTestDatabase("review");
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
  const logger = createLogger({
    service: "test",
    level: "silent",
    destination: new Writable({ write: (_c, _e, d) => d() }),
  });
  app = await start({
    nc,
    pool,
    topology,
    logger,
    alertFlushMs: 200,
    streamOptions: { in: memory, out: memory, dlq: memory },
  });
  // The same woman registered twice at one clinic, the second time with her name misspelt.
  for (const p of [person("C-100", "Zebediah"), person("C-177", "Zebedaih")]) {
    const e = newEnvelope({
      fromFacility: "clinic-a",
      purposeOfUse: PurposeOfUse.TREATMENT,
      body: {
        $case: "patientAnnouncement",
        value: {
          kind: AnnouncementKind.REGISTERED,
          patient: p,
          retiredIds: [],
          sourceEvent: "ADT^A04",
          occurredAt: new Date(),
        },
      },
    });
    await publishEnvelope(nc.jetstream(), topology.inSubject("clinic-a", "patient_announcement"), e);
  }
  const deadline = Date.now() + 20_000;
  for (;;) {
    const r = await pool.query<{ alert_id: string }>(
      "SELECT alert_id FROM mpi_alerts WHERE kind = 'duplicate'",
    );
    if (r.rows[0] !== undefined) {
      alertId = r.rows[0].alert_id;
      break;
    }
    if (Date.now() > deadline) throw new Error("no duplicate alert raised");
    await new Promise((r) => setTimeout(r, 100));
  }
}, 60_000);

afterAll(async () => {
  await app.stop();
  for (const s of Object.values(topology.streams))
    await (await nc.jetstreamManager()).streams.delete(s.name).catch(() => undefined);
  await nc.drain();
  await pool.end();
  await db.drop();
});

const env = () => ({ HIX_DATABASE_URL: db.url });

describe("hix review", () => {
  it("lists the open duplicate with its records and reason, and no patient values", async () => {
    const r = await runHix(["review", "list", "--json"], { env: env() });
    expect(r.code).toBe(0);
    const rows = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const row = rows.find((x) => JSON.stringify(x).includes(alertId));
    expect(row).toBeDefined();
    expect(row?.["kind"]).toBe("duplicate");
    expect(row?.["records"]).toMatchObject([
      { facilityId: "clinic-a", localId: "C-100" },
      { facilityId: "clinic-a", localId: "C-177" },
    ]);
    expect(r.stdout).not.toContain("Quillfeather");
  });

  it("shows the field-by-field comparison, masked unless --phi", async () => {
    const masked = await runHix(["review", "show", alertId], { env: env() });
    expect(masked.code).toBe(0);
    expect(masked.stdout).toMatch(/^family\s+exact/m);
    expect(masked.stdout).toMatch(/guard possible-twins/);
    expect(masked.stdout.toUpperCase()).not.toContain("QUILLFEATHER");
    const open = await runHix(["review", "show", alertId, "--phi"], { env: env() });
    expect(open.stdout).toMatch(/QUILLFEATHER \/ QUILLFEATHER/);
  });

  it("runs a stricter rule in shadow without changing anything", async () => {
    const before = await pool.query("SELECT count(*) FROM mpi_links");
    const r = await runHix(["review", "shadow", "--rule-version", "fs-1-strict", "--json"], { env: env() });
    expect([0, 1]).toContain(r.code);
    expect(r.stderr).toBe("");
    const after = await pool.query("SELECT count(*) FROM mpi_links");
    expect(after.rows).toEqual(before.rows);
  });

  it("records a not-duplicate decision with who and why, and closes the alert", async () => {
    const bad = await runHix(["review", "decide", alertId, "--action", "not-duplicate"], { env: env() });
    expect(bad.code).toBe(2);
    const r = await runHix(
      [
        "review",
        "decide",
        alertId,
        "--action",
        "not-duplicate",
        "--reviewer",
        "mrt-jdoe",
        "--reason",
        "different people: checked the charts",
      ],
      { env: env() },
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const alert = await pool.query<{ status: string }>("SELECT status FROM mpi_alerts WHERE alert_id = $1", [
      alertId,
    ]);
    expect(alert.rows[0]?.status).not.toBe("open");
    // The decision is an event with who and why (mpi_alerts.decided_by points at it).
    const event = await pool.query<{ kind: string; actor: string; reason: string }>(
      "SELECT kind, actor, reason FROM mpi_events WHERE alert_id = $1 AND actor <> 'reconciler'",
      [alertId],
    );
    expect(event.rows).toEqual([
      { kind: "not-duplicate", actor: "mrt-jdoe", reason: "different people: checked the charts" },
    ]);
    const list = await runHix(["review", "list", "--json"], { env: env() });
    expect(list.stdout).not.toContain(alertId);
  });
});
