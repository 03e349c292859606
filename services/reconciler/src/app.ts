/**
 * The reconciler as a value: `start(deps)` migrates the index schema, starts the HIX_IN consumer
 * (announcements and exchange traffic), the record locator responder and the alert outbox flusher,
 * and returns `stop()`, which stops intake, finishes in-flight work and closes what it opened
 * (not the NATS connection or pool it was given: main.ts owns those).
 */
import { fileURLToPath } from "node:url";
import type { NatsConnection } from "nats";
import type pg from "pg";
import {
  ensureStreams,
  startConsumer,
  type ConsumerStats,
  type StreamOptions,
  type Topology,
} from "@hix/bus";
import { migrate } from "@hix/db";
import type { Logger } from "@hix/runtime";
import { flushAlerts } from "./alerts.js";
import { startLocator } from "./locator.js";
import { createPipeline } from "./pipeline.js";
import { DEFAULT_RULE_VERSION, ruleFor } from "./rules.js";

export const MIGRATIONS_DIR = fileURLToPath(new URL("../migrations", import.meta.url));
export const MIGRATIONS_TABLE = "reconciler_migrations";

/** Brings the index schema up to date; safe from every replica (migrate takes an advisory lock). */
export async function migrateReconcilerSchema(pool: pg.Pool, logger?: Logger): Promise<void> {
  await migrate(pool, {
    dir: MIGRATIONS_DIR,
    table: MIGRATIONS_TABLE,
    ...(logger === undefined ? {} : { log: logger }),
  });
}

export interface ReconcilerDeps {
  readonly nc: NatsConnection;
  readonly pool: pg.Pool;
  readonly topology: Topology;
  readonly logger: Logger;
  readonly durable?: string;
  readonly concurrency?: number;
  readonly ruleVersion?: string;
  /** How often unpublished alerts are retried (ms). */
  readonly alertFlushMs?: number;
  readonly ackWaitMs?: number;
  /** Stream settings when the reconciler creates the streams (tests use memory storage). */
  readonly streamOptions?: Partial<Record<"in" | "out" | "dlq", StreamOptions>>;
}

export interface RunningReconciler {
  readonly stats: Readonly<ConsumerStats>;
  stop(): Promise<void>;
}

export async function start(deps: ReconcilerDeps): Promise<RunningReconciler> {
  const log = deps.logger;
  const rule = ruleFor(deps.ruleVersion ?? DEFAULT_RULE_VERSION);
  await migrateReconcilerSchema(deps.pool, log);
  const jsm = await deps.nc.jetstreamManager();
  const js = deps.nc.jetstream();
  await ensureStreams(jsm, deps.topology, deps.streamOptions);

  const locator = startLocator({ nc: deps.nc, pool: deps.pool, topology: deps.topology, rule, logger: log });
  const durable = deps.durable ?? "reconciler";
  const consumer = await startConsumer({
    js,
    jsm,
    topology: deps.topology,
    stream: deps.topology.streams.in.name,
    durable,
    // Announcements and the patients named in exchange traffic: one durable over HIX_IN
    // (nats-server 2.9 has one filter subject per consumer); the pipeline picks by body kind.
    filterSubject: deps.topology.streams.in.subjects[0]!,
    handler: createPipeline({ pool: deps.pool, js, topology: deps.topology, rule, logger: log }),
    logger: log,
    concurrency: deps.concurrency ?? 8,
    ...(deps.ackWaitMs === undefined ? {} : { ackWaitMs: deps.ackWaitMs }),
  });

  // Alerts whose publication failed after commit are sent by this flusher.
  const flushMs = deps.alertFlushMs ?? 10_000;
  let flushing: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    flushing = flushing
      .then(async () => {
        await flushAlerts(deps.pool, js, deps.topology);
      })
      .catch((err: unknown) =>
        log.warn({ err: { name: err instanceof Error ? err.name : "unknown" } }, "alert flush failed"),
      );
  }, flushMs);
  timer.unref();
  log.info({ durable, ruleVersion: rule.version }, "reconciler started");

  let stopped: Promise<void> | undefined;
  return {
    stats: consumer.stats,
    stop() {
      stopped ??= (async () => {
        clearInterval(timer);
        await consumer.stop();
        await locator.stop();
        await flushing;
        log.info({ ...consumer.stats }, "reconciler stopped");
      })();
      return stopped;
    },
  };
}
