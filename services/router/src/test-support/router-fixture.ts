// Shared set-up for the router's integration tests: real JetStream (a topology with a unique
// prefix, memory streams) and a fresh PostgreSQL database per test, a seeded directory, a
// running router, and per-facility inboxes that read what the router delivered on HIX_OUT.
import { Writable } from "node:stream";
import {
  connect,
  type JetStreamClient,
  type JetStreamManager,
  type MsgHdrs,
  type NatsConnection,
} from "nats";
import type pg from "pg";
import { createTopology, ensureStreams, publish, publishEnvelope, type Topology } from "@hix/bus";
import { createPool } from "@hix/db";
import { createLogger, type Logger } from "@hix/runtime";
import {
  DisclosureAction,
  Facility,
  FacilityStatus,
  PurposeOfUse,
  decodeEnvelope,
  unbatch,
  type Envelope,
} from "@hix/proto";
import { createTestDatabase, natsUrl, uniqueName, type TestDatabase } from "@hix/testkit";
import { migrateRouterSchema, start, type RouterDeps, type RunningRouter } from "../app.js";
import { saveFacility } from "../directory.js";

export const PATIENT_KEY = "test-patient-hash-key-0123456789";

/** The directory every test starts with. */
export const FACILITIES: readonly Facility[] = [
  facility("hospital-a", "Alpha General Hospital"),
  facility("clinic-b", "Bravo Family Clinic"),
  facility("clinic-c", "Charlie Health Centre"),
  facility("practice-d", "Delta Private Practice"),
  facility("clinic-sus", "Suspended Clinic", FacilityStatus.SUSPENDED),
];

export function facility(
  id: string,
  name: string,
  status = FacilityStatus.ACTIVE,
  rules: Array<{ purpose: PurposeOfUse; action: DisclosureAction }> = [
    { purpose: PurposeOfUse.TREATMENT, action: DisclosureAction.AUTO_ANSWER },
    { purpose: PurposeOfUse.RESEARCH, action: DisclosureAction.REFUSE },
  ],
): Facility {
  return Facility.fromPartial({
    id,
    name,
    status,
    disclosurePolicy: { rules, defaultAction: DisclosureAction.REVIEW },
  });
}

export interface Delivered {
  readonly subject: string;
  readonly envelope: Envelope;
  readonly headers: MsgHdrs | undefined;
}

export interface RouterFixture {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  topology: Topology;
  pool: pg.Pool;
  db: TestDatabase;
  logger: Logger;
  logLines: Record<string, unknown>[];
  router: RunningRouter | undefined;
  startRouter(overrides?: Partial<RouterDeps>): Promise<RunningRouter>;
  /** Publishes an envelope as `facility` would (subject hix.in.<facility>.<kind>). */
  submit(facility: string, envelope: Envelope, kind?: string): Promise<void>;
  submitBytes(facility: string, kind: string, data: Uint8Array, msgId: string): Promise<void>;
  /** The messages stored for a facility on HIX_OUT so far, as stored (a receipt batch is one). */
  stored(facility: string): Promise<Delivered[]>;
  /** Everything delivered to a facility so far, as consumers read it: batched receipts one by one. */
  inbox(facility: string): Promise<Delivered[]>;
  close(): Promise<void>;
}

export async function routerFixture(name: string): Promise<RouterFixture> {
  const nc = await connect({ servers: await natsUrl(), name });
  const jsm = await nc.jetstreamManager();
  const js = nc.jetstream();
  const topology = createTopology(uniqueName(name).toLowerCase());
  const memory = { storage: "memory" as const };
  await ensureStreams(jsm, topology, { in: memory, out: memory, dlq: memory });
  const db = await createTestDatabase("router");
  const pool = createPool(db.url, { max: 8 });
  await migrateRouterSchema(pool);
  for (const f of FACILITIES) await saveFacility(pool, f);
  const logLines: Record<string, unknown>[] = [];
  const logger = createLogger({
    service: "router-test",
    level: "debug",
    destination: new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(JSON.parse(chunk.toString("utf8")) as Record<string, unknown>);
        done();
      },
    }),
  });

  const fx: RouterFixture = {
    nc,
    js,
    jsm,
    topology,
    pool,
    db,
    logger,
    logLines,
    router: undefined,
    async startRouter(overrides = {}) {
      fx.router = await start({
        nc,
        pool,
        databaseUrl: db.url,
        topology,
        logger,
        patientHashKey: PATIENT_KEY,
        streamOptions: { in: memory, out: memory, dlq: memory },
        locateTimeoutMs: 500,
        sweepIntervalMs: 60_000,
        ...overrides,
      });
      return fx.router;
    },
    async submit(facilityId, envelope, kind) {
      const k = kind ?? subjectKindOf(envelope);
      await publishEnvelope(js, topology.inSubject(facilityId, k as never), envelope);
    },
    async submitBytes(facilityId, kind, data, msgId) {
      await publish(js, topology.inSubject(facilityId, kind as never), data, { msgId });
    },
    async stored(facilityId) {
      // Reads the (small, memory) stream by sequence: simple, and sees every message once.
      const stream = topology.streams.out.name;
      const info = await jsm.streams.info(stream);
      const prefix = topology.outSubject(facilityId, ">").slice(0, -1);
      const out: Delivered[] = [];
      for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
        const m = await jsm.streams.getMessage(stream, { seq }).catch(() => undefined);
        if (m === undefined || !m.subject.startsWith(prefix)) continue;
        out.push({ subject: m.subject, envelope: decodeEnvelope(m.data), headers: m.header });
      }
      return out;
    },
    async inbox(facilityId) {
      // A batch of receipts counts as the receipts it carries, as consumers read it.
      return (await fx.stored(facilityId)).flatMap((d) =>
        unbatch(d.envelope).map((envelope) => ({ ...d, envelope })),
      );
    },
    async close() {
      await fx.router?.stop();
      await pool.end();
      for (const s of Object.values(topology.streams))
        await jsm.streams.delete(s.name).catch(() => undefined);
      await nc.drain();
      await db.drop();
    },
  };
  return fx;
}

function subjectKindOf(envelope: Envelope): string {
  return (envelope.body?.$case ?? "receipt").replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** Resolves when `predicate` holds, polling; rejects after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
