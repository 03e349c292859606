// Shared set-up for the bus integration tests: a real JetStream connection and a topology
// with a unique prefix, so each test has its own streams and subjects.
import { Writable } from "node:stream";
import { connect, type JetStreamClient, type JetStreamManager, type NatsConnection } from "nats";
import { createLogger, type Logger } from "@hix/runtime";
import { natsUrl, uniqueName } from "@hix/testkit";
import { createTopology, type Topology } from "../topology.js";
import { ensureStreams, type StreamOptions } from "../streams.js";

export interface BusFixture {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  topology: Topology;
  logger: Logger;
  /** JSON log lines written so far, for assertions on what was logged. */
  logLines: Record<string, unknown>[];
  close(): Promise<void>;
}

export async function busFixture(name: string, streamOptions: StreamOptions = {}): Promise<BusFixture> {
  const nc = await connect({ servers: await natsUrl(), name });
  const jsm = await nc.jetstreamManager();
  const topology = createTopology(uniqueName(name).toLowerCase());
  const memory = { storage: "memory" as const, ...streamOptions };
  await ensureStreams(jsm, topology, { in: memory, out: memory, dlq: memory });
  const logLines: Record<string, unknown>[] = [];
  const logger = createLogger({
    service: "test",
    level: "debug",
    destination: new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(JSON.parse(chunk.toString("utf8")) as Record<string, unknown>);
        done();
      },
    }),
  });
  return {
    nc,
    js: nc.jetstream(),
    jsm,
    topology,
    logger,
    logLines,
    async close() {
      for (const s of Object.values(topology.streams))
        await jsm.streams.delete(s.name).catch(() => undefined);
      await nc.drain();
    },
  };
}

/** Resolves when `predicate` holds, polling; rejects after `timeoutMs`. */
export async function eventually(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
export const text = (data: Uint8Array): string => new TextDecoder().decode(data);
