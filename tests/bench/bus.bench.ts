// `pnpm bench bus`: publish → consume → ack through @hix/bus against bare nats.js doing the
// same work (same server, stream settings, payload, message ids and in-flight window) in the
// same run. Two phases each: saturation (throughput) and a fixed offered load (latency).
import { parseArgs } from "node:util";
import { connect, AckPolicy, nanos, type JetStreamClient, type NatsConnection } from "nats";
import { createLogger } from "@hix/runtime";
import {
  ack,
  createTopology,
  ensureStreams,
  inFlightWindow,
  publish,
  startConsumer,
  type Topology,
} from "@hix/bus";
import { natsUrl, uniqueName } from "@hix/testkit";
import { PurposeOfUse, ReceiptStatus, encodeEnvelope, newEnvelope } from "@hix/proto";
import { latencySummary, round2 } from "./stats.js";

interface Phase {
  messages: number;
  seconds: number;
  msgsPerSec: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
}

const WINDOW = 256;

export async function run(args: readonly string[]): Promise<Record<string, unknown>> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      messages: { type: "string", default: "20000" },
      rate: { type: "string", default: "1000" },
      seconds: { type: "string", default: "3" },
      rounds: { type: "string", default: "3" },
    },
  });
  const count = Number(values.messages);
  const rate = Number(values.rate);
  const rateSeconds = Number(values.seconds);
  const rounds = Number(values.rounds);
  const url = await natsUrl();
  const nc = await connect({ servers: url, name: "bench-bus" });
  const serverVersion = nc.info?.version ?? "unknown"; // info is gone once the connection drains
  const payload = samplePayload();
  const results: { bare: Phase[]; hix: Phase[] } = { bare: [], hix: [] };
  const fixed: { bare?: Phase; hix?: Phase } = {};
  try {
    for (let round = 0; round < rounds; round++) {
      for (const contender of ["bare", "hix"] as const) {
        process.stderr.write(`round ${round + 1}/${rounds}: ${contender} saturation (${count} messages)\n`);
        results[contender].push(await measure(nc, contender, payload, count, undefined));
      }
    }
    for (const contender of ["bare", "hix"] as const) {
      process.stderr.write(`${contender}: fixed load ${rate}/s for ${rateSeconds}s\n`);
      fixed[contender] = await measure(nc, contender, payload, rate * rateSeconds, rate);
    }
  } finally {
    await nc.drain();
  }
  const best = (phases: Phase[]): Phase => phases.reduce((a, b) => (b.msgsPerSec > a.msgsPerSec ? b : a));
  const median = (phases: Phase[]): number =>
    phases.map((p) => p.msgsPerSec).sort((a, b) => a - b)[Math.floor(phases.length / 2)]!;
  return {
    server: `nats-server ${serverVersion} at ${url}`,
    payloadBytes: payload.byteLength,
    inFlightWindow: WINDOW,
    saturation: {
      bare: { medianMsgsPerSec: median(results.bare), best: best(results.bare) },
      hix: { medianMsgsPerSec: median(results.hix), best: best(results.hix) },
      ratioHixToBare: round2(median(results.hix) / median(results.bare)),
      target: ">= 0.8",
    },
    fixedLoad: { offeredPerSec: rate, ...fixed },
  };
}

async function measure(
  nc: NatsConnection,
  contender: "bare" | "hix",
  payload: Uint8Array,
  count: number,
  rate: number | undefined,
): Promise<Phase> {
  const topology = createTopology(uniqueName(`bench_${contender}`).toLowerCase());
  const jsm = await nc.jetstreamManager();
  const js = nc.jetstream();
  await ensureStreams(jsm, topology);
  const subject = topology.inSubject("bench", "record_transfer");
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const received = (id: string): void => {
    const t0 = sentAt.get(id);
    if (t0 !== undefined) latencies.push(performance.now() - t0);
    if (latencies.length === count) done();
  };

  const stopConsumer =
    contender === "hix"
      ? await hixConsumer(nc, topology, received)
      : await bareConsumer(nc, topology, received);

  const start = performance.now();
  await publishAll(js, subject, payload, count, rate, sentAt, contender);
  await finished;
  const seconds = (performance.now() - start) / 1000;
  await stopConsumer();
  for (const s of Object.values(topology.streams)) await jsm.streams.delete(s.name);
  return {
    messages: count,
    seconds: round2(seconds),
    msgsPerSec: Math.round(count / seconds),
    latencyMs: latencySummary(latencies),
  };
}

async function publishAll(
  js: JetStreamClient,
  subject: string,
  payload: Uint8Array,
  count: number,
  rate: number | undefined,
  sentAt: Map<string, number>,
  contender: "bare" | "hix",
): Promise<void> {
  const window = inFlightWindow(WINDOW);
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    if (rate !== undefined) {
      const due = t0 + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    }
    const id = `b${i}`;
    sentAt.set(id, performance.now());
    await window.add(
      contender === "hix"
        ? publish(js, subject, payload, { msgId: id })
        : js.publish(subject, payload, { msgID: id }),
    );
  }
  await window.drain();
}

async function bareConsumer(
  nc: NatsConnection,
  topology: Topology,
  received: (id: string) => void,
): Promise<() => Promise<void>> {
  const jsm = await nc.jetstreamManager();
  await jsm.consumers.add(topology.streams.in.name, {
    durable_name: "bench",
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(30_000),
    max_ack_pending: WINDOW * 8,
  });
  const consumer = await nc.jetstream().consumers.get(topology.streams.in.name, "bench");
  const messages = await consumer.consume({ max_messages: WINDOW * 2 });
  const loop = (async () => {
    for await (const m of messages) {
      m.ack();
      received(m.headers?.get("Nats-Msg-Id") ?? "");
    }
  })();
  return async () => {
    await messages.close();
    await loop;
  };
}

async function hixConsumer(
  nc: NatsConnection,
  topology: Topology,
  received: (id: string) => void,
): Promise<() => Promise<void>> {
  const consumer = await startConsumer({
    js: nc.jetstream(),
    jsm: await nc.jetstreamManager(),
    topology,
    stream: topology.streams.in.name,
    durable: "bench",
    concurrency: WINDOW,
    logger: createLogger({ service: "bench", level: "warn" }),
    handler: async (d) => {
      received(d.messageId);
      return ack();
    },
  });
  return () => consumer.stop();
}

/** An envelope of about 1 KiB. */
function samplePayload(): Uint8Array {
  const envelope = newEnvelope({
    fromFacility: "hospital-a",
    toFacility: "clinic-b",
    purposeOfUse: PurposeOfUse.TREATMENT,
    body: {
      $case: "receipt",
      value: {
        regardingId: "01HZX0000000000000000000AA",
        status: ReceiptStatus.DELIVERED,
        code: "bench.filler",
        reason: "x".repeat(900),
        facilityId: "clinic-b",
      },
    },
  });
  return encodeEnvelope(envelope);
}
