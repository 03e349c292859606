/**
 * The adapter for one facility as a value: `start(deps)` opens the transports its profile
 * names (MLLP listener, inbox folder, FHIR HTTP endpoint), the HIX_OUT consumer for its
 * deliveries and record requests, and returns `stop()`: stop intake, answer what is in
 * flight, stop the consumer. The NATS connection and pool belong to main.ts.
 */
import type { NatsConnection } from "nats";
import type pg from "pg";
import {
  createDocumentIntake,
  createHl7Intake,
  folderRecordStore,
  postgresRecordStore,
  startFhirEndpoint,
  startInbox,
  startMllpServer,
  type FhirEndpoint,
  type Hooks,
  type Inbox,
  type IntakeEvent,
  type LoadedProfile,
  type MllpServer,
  type RecordStore,
  type SeenStore,
} from "@hix/adapter-kit";
import {
  ensureStreams,
  kvIdempotencyStore,
  startConsumer,
  type RunningConsumer,
  type StreamOptions,
  type Topology,
} from "@hix/bus";
import type { Logger } from "@hix/runtime";
import { busSubmit, outboundHandler } from "./pipeline.js";

export interface AdapterDeps {
  readonly nc: NatsConnection;
  readonly profile: LoadedProfile;
  readonly hooks?: Hooks | undefined;
  readonly topology: Topology;
  readonly logger: Logger;
  /** For a `postgres` record store. */
  readonly pool?: pg.Pool | undefined;
  readonly concurrency?: number;
  readonly publishTimeoutMs?: number;
  /** How long MSH-10 repeats are recognised beyond JetStream's duplicate window. */
  readonly dedupeTtlMs?: number;
  /** Create the streams if missing (development and tests); production leaves that to the router. */
  readonly ensureStreams?: Partial<Record<"in" | "out" | "dlq", StreamOptions>> | boolean;
}

export interface RunningAdapter {
  /** Bound ports (a profile port of 0 picks a free one). */
  readonly mllpPort: number | undefined;
  readonly fhirPort: number | undefined;
  readonly inbox: Inbox | undefined;
  stop(): Promise<void>;
}

export async function start(deps: AdapterDeps): Promise<RunningAdapter> {
  const { profile: loaded, topology } = deps;
  const profile = loaded.profile;
  const log = deps.logger.child({ facility: profile.id });
  const js = deps.nc.jetstream();
  const jsm = await deps.nc.jetstreamManager();
  if (deps.ensureStreams !== undefined && deps.ensureStreams !== false)
    await ensureStreams(jsm, topology, deps.ensureStreams === true ? {} : deps.ensureStreams);

  const submit = busSubmit({ js, topology, facility: profile.id, timeoutMs: deps.publishTimeoutMs ?? 5000 });
  const seen: SeenStore = await kvIdempotencyStore(js, {
    bucket: `${topology.prefix === "" ? "" : `${topology.prefix}_`}adapter_seen_${profile.id}`,
    ttlMs: deps.dedupeTtlMs ?? 7 * 24 * 3600 * 1000,
  });
  const onEvent = (e: IntakeEvent): void => {
    // Ids, codes and positions only: no payload, no patient data.
    if (e.type === "accepted")
      log.info(
        { source: e.source, envelopeIds: e.envelopeIds, duplicates: e.duplicates },
        "message accepted",
      );
    else
      log.warn(
        { source: e.source, code: e.code, location: e.location, file: e.file },
        "message refused and quarantined",
      );
  };
  const intakeDeps = {
    profile,
    hooks: deps.hooks,
    submit,
    seen,
    quarantineDir: loaded.path(profile.quarantineDir),
    onEvent,
  };

  let store: RecordStore | undefined;
  if (profile.recordStore?.kind === "fhir-folder") {
    store = folderRecordStore({
      dir: loaded.path(profile.recordStore.dir),
      facilityId: profile.id,
      mrnSystem: profile.mrn.system,
      onSkip: (file, code) => log.warn({ file, code }, "record store file skipped"),
    });
  } else if (profile.recordStore?.kind === "postgres") {
    if (deps.pool === undefined)
      throw new Error("the profile's postgres record store needs HIX_ADAPTER_DATABASE_URL");
    const pgStore = postgresRecordStore({ pool: deps.pool, table: profile.recordStore.table });
    await pgStore.ensureTable();
    store = pgStore;
  }

  const stops: (() => Promise<void>)[] = [];
  let mllp: MllpServer | undefined;
  let fhir: FhirEndpoint | undefined;
  let inbox: Inbox | undefined;
  try {
    const consumer: RunningConsumer = await startConsumer({
      js,
      jsm,
      topology,
      logger: log,
      stream: topology.streams.out.name,
      durable: `adapter-${profile.id}`,
      filterSubject: topology.outSubject(profile.id, ">"),
      concurrency: deps.concurrency ?? 8,
      handler: outboundHandler({
        profile,
        resolvePath: (p) => loaded.path(p),
        hooks: deps.hooks,
        store,
        submit,
        logger: log,
      }),
    });
    stops.push(() => consumer.stop());

    if (profile.inbound.mllp !== undefined) {
      const intake = createHl7Intake(intakeDeps);
      mllp = await startMllpServer({
        host: profile.inbound.mllp.host,
        port: profile.inbound.mllp.port,
        onMessage: (text, info) => intake(text, `mllp:${info.remote}`),
        onError: (err, info) =>
          log.warn(
            { err, remote: info.remote },
            "MLLP message not acknowledged (connection closed; sender will resend)",
          ),
      });
      const server = mllp;
      stops.unshift(() => server.close());
      log.info({ port: mllp.port }, "MLLP listener started");
    }
    const documents = createDocumentIntake(intakeDeps);
    if (profile.inbound.fhirHttp !== undefined) {
      fhir = await startFhirEndpoint({
        host: profile.inbound.fhirHttp.host,
        port: profile.inbound.fhirHttp.port,
        maxBytes: profile.inbound.fhirHttp.maxBytes,
        handle: (text, source) => documents("fhir", text, source),
      });
      const endpoint = fhir;
      stops.unshift(() => endpoint.close());
      log.info({ port: fhir.port }, "FHIR endpoint started");
    }
    if (profile.inbound.inbox !== undefined) {
      inbox = await startInbox({
        dir: loaded.path(profile.inbound.inbox.dir),
        pollMs: profile.inbound.inbox.pollMs,
        format: profile.inbound.inbox.format,
        handle: documents,
        onEvent: (e) => {
          if (e.type === "done") log.info({ file: e.file, envelopes: e.envelopes }, "inbox file done");
          else if (e.type === "error") log.warn({ file: e.file, code: e.code }, "inbox file refused");
          else log.warn({ file: e.file, code: e.code }, "inbox file kept for retry");
        },
      });
      const box = inbox;
      stops.unshift(() => box.stop());
    }
  } catch (err) {
    for (const stop of stops) await stop().catch(() => undefined);
    throw err;
  }

  let stopped: Promise<void> | undefined;
  return {
    mllpPort: mllp?.port,
    fhirPort: fhir?.port,
    inbox,
    stop() {
      // Intake first (transports were unshifted), then the consumer.
      stopped ??= (async () => {
        for (const stop of stops) await stop();
        await store?.close?.();
      })();
      return stopped;
    },
  };
}
