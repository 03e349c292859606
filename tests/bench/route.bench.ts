// `pnpm bench route`: facility publish → router → delivery consumed by the destination,
// against bare nats.js relaying the same messages without any logic (consume from HIX_IN,
// publish to HIX_OUT with a derived Nats-Msg-Id, ack), measured in the same run on the same
// server, streams (file storage) and destination consumer. The middle (router or relay) runs
// in its own process (tests/router/route-middle.ts), as a deployed router does; this process
// plays the facilities. Two phases each: saturation (throughput) and a fixed offered load
// (latency percentiles). Each phase starts a fresh middle process, and its first seconds (JIT
// compiling, PostgreSQL pool connections opening) are a start-up cost, not the steady state of a
// long-running router: so each phase routes warm-up messages first and times only what follows
// (saturation: a warm-up burst, delivered before the timed one starts; fixed load: a warm-up at
// the same rate, in one evenly paced sequence with the timed messages). The saturation warm-up is
// 30,000 messages, two to three seconds: V8's optimizing compiler spends about a second of CPU on
// the router in its first 1.5 s of traffic (half that on the relay), which a shorter warm-up left
// inside the timed phase (docs/benchmarks.md). Saturation rounds alternate bare and routed; the
// ratio is the median of the rounds' routed/bare ratios, each pair measured back to back, so a
// slow spell of the machine weighs on both sides of a ratio rather than on one median.
//
// The server is a current nats-server (the release `pnpm nats:fetch` pins) started for the run on
// a free loopback port, as a deployment would run; `--server system` uses the one the tests use
// instead (HIX_TEST_NATS_URL, else 127.0.0.1:4222 — Debian's 2.9.10 on the team's machines,
// whose JetStream stalls for 20–40 ms about every 2 s under this load; docs/benchmarks.md).
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { AckPolicy, connect, nanos, type NatsConnection } from "nats";
import {
  createBatchedPublisher,
  createTopology,
  ensureStreams,
  inFlightWindow,
  type Publish,
  type Topology,
} from "@hix/bus";
import { createPool } from "@hix/db";
import {
  Facility,
  FacilityStatus,
  PurposeOfUse,
  RecordTransfer,
  encodeEnvelope,
  newEnvelope,
  type Envelope,
} from "@hix/proto";
import { ROUTER_CONCURRENCY, migrateRouterSchema, saveFacility } from "@hix/router";
import { createTestDatabase, natsUrl, startNatsServer, uniqueName } from "@hix/testkit";
import { latencySummary, round2 } from "./stats.js";

interface Phase {
  messages: number;
  seconds: number;
  msgsPerSec: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /**
   * CPU time (user + system) the middle process spent per message while the phase ran: the
   * figure that depends least on what else the shared cores are doing.
   */
  middleCpuMsPerMsg: number | null;
  /** The same for this process (the facilities and the destination), which shares the cores. */
  benchCpuMsPerMsg: number;
  /**
   * The same for every nats-server and every PostgreSQL process on the machine (a backend that
   * exits is counted through its parent), so the phase's whole CPU budget is accounted for.
   */
  natsServerCpuMsPerMsg: number | null;
  postgresCpuMsPerMsg: number | null;
}

const WINDOW = 256;
const FROM = "clinic-bench";
const TO = "hospital-bench";

export async function run(args: readonly string[]): Promise<Record<string, unknown>> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      messages: { type: "string", default: "20000" },
      rate: { type: "string", default: "1000" },
      seconds: { type: "string", default: "10" },
      "warmup-seconds": { type: "string", default: "2" },
      rounds: { type: "string", default: "5" },
      "saturation-warmup": { type: "string", default: "30000" },
      "fixed-rounds": { type: "string", default: "3" },
      only: { type: "string" },
      server: { type: "string", default: "current" },
    },
  });
  const count = Number(values.messages);
  const rate = Number(values.rate);
  const rateSeconds = Number(values.seconds);
  const warmupSeconds = Number(values["warmup-seconds"]);
  const rounds = Number(values.rounds);
  const saturationWarmup = Number(values["saturation-warmup"]);
  const fixedRounds = Number(values["fixed-rounds"]);
  // --only bare|routed runs one contender (for profiling); the ratio then is not meaningful.
  const contenders = (["bare", "routed"] as const).filter(
    (c) => values.only === undefined || values.only === c,
  );
  if (values.server !== "current" && values.server !== "system")
    throw new Error(`--server must be current or system, not ${values.server}`);
  const server = values.server === "current" ? await startNatsServer({ version: "current" }) : undefined;
  const url = server?.url ?? (await natsUrl());
  const nc = await connect({ servers: url, name: "bench-route" });
  const serverVersion = nc.info?.version ?? "unknown";
  const db = await createTestDatabase("bench_route");
  const saturation: { bare: Phase[]; routed: Phase[] } = { bare: [], routed: [] };
  const fixed: { bare: Measured[]; routed: Measured[] } = { bare: [], routed: [] };
  try {
    for (let round = 0; round < rounds; round++) {
      for (const contender of contenders) {
        process.stderr.write(`round ${round + 1}/${rounds}: ${contender} saturation (${count} messages)\n`);
        saturation[contender].push(
          (await measure(nc, url, db.url, contender, count, undefined, saturationWarmup)).phase,
        );
      }
    }
    // Rounds alternate between the contenders so both meet the same spells of outside load.
    for (let round = 0; round < fixedRounds; round++) {
      for (const contender of contenders) {
        process.stderr.write(
          `round ${round + 1}/${fixedRounds}: ${contender} fixed load ${rate}/s, ${warmupSeconds}s warm-up then ${rateSeconds}s measured\n`,
        );
        fixed[contender].push(
          await measure(nc, url, db.url, contender, rate * rateSeconds, rate, rate * warmupSeconds),
        );
      }
    }
  } finally {
    await nc.drain();
    await db.drop();
    await server?.stop();
  }
  const middle = (values: number[]): number | undefined =>
    [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const median = (phases: Phase[]): number => middle(phases.map((p) => p.msgsPerSec)) ?? 0;
  const medianCpu = (phases: Phase[]): number | null =>
    phases.map((p) => p.middleCpuMsPerMsg ?? Infinity).sort((a, b) => a - b)[
      Math.floor((phases.length - 1) / 2)
    ] ?? null;
  // Round i of each contender ran back to back (bare first); with --only there are none.
  const roundRatios = saturation.routed.flatMap((routed, i) => {
    const bare = saturation.bare[i];
    return bare === undefined ? [] : [round2(routed.msgsPerSec / bare.msgsPerSec)];
  });
  return {
    server: `nats-server ${serverVersion} at ${url}`,
    payloadBytes: encodeEnvelope(sampleEnvelope(0)).byteLength,
    inFlightWindow: WINDOW,
    middle: { concurrency: ROUTER_CONCURRENCY, nodeFlags: MIDDLE_NODE_FLAGS },
    saturation: {
      warmupMessages: saturationWarmup,
      bare: {
        medianMsgsPerSec: median(saturation.bare),
        medianCpuMsPerMsg: medianCpu(saturation.bare),
        rounds: saturation.bare,
      },
      routed: {
        medianMsgsPerSec: median(saturation.routed),
        medianCpuMsPerMsg: medianCpu(saturation.routed),
        rounds: saturation.routed,
      },
      roundRatios,
      ratioRoutedToBare: round2(middle(roundRatios) ?? NaN),
      target: ">= 0.7",
    },
    fixedLoad: {
      offeredPerSec: rate,
      warmupSeconds,
      bare: fixedSummary(fixed.bare),
      routed: fixedSummary(fixed.routed),
      targetRoutedP99Ms: "< 20",
    },
  };
}

interface Measured {
  phase: Phase;
  /** Every measured message's latency in ms, in arrival order. */
  latencies: number[];
}

/** Fixed-load rounds of one contender: percentiles over all their messages, and each round's. */
function fixedSummary(rounds: Measured[]): Record<string, unknown> {
  const p99s = rounds.map((r) => r.phase.latencyMs.p99).sort((a, b) => a - b);
  return {
    latencyMs: latencySummary(rounds.flatMap((r) => r.latencies)),
    medianRoundP99Ms: p99s[Math.floor((p99s.length - 1) / 2)] ?? null,
    rounds: rounds.map((r) => r.phase),
  };
}

async function measure(
  nc: NatsConnection,
  natsServerUrl: string,
  databaseUrl: string,
  contender: "bare" | "routed",
  count: number,
  rate: number | undefined,
  warmup = 0,
): Promise<Measured> {
  const topology = createTopology(uniqueName(`bench_${contender}`).toLowerCase());
  const jsm = await nc.jetstreamManager();
  const js = nc.jetstream();
  await ensureStreams(jsm, topology);
  // The first `warmup` messages flow like the rest but are not counted in the figures.
  const envelopes = Array.from({ length: warmup + count }, (_, i) => sampleEnvelope(i));
  const ids = envelopes.map((e) => e.id);
  const measured = new Set(ids.slice(warmup));
  let arrived = 0;
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  let warmedUp!: () => void;
  const warm = new Promise<void>((resolve) => (warmedUp = resolve));

  // The destination: a durable consumer of everything delivered to TO.
  await jsm.consumers.add(topology.streams.out.name, {
    durable_name: "destination",
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(30_000),
    max_ack_pending: WINDOW * 8,
    filter_subject: topology.outSubject(TO, ">"),
  });
  const dest = await (
    await js.consumers.get(topology.streams.out.name, "destination")
  ).consume({
    max_messages: WINDOW * 2,
  });
  const destLoop = (async () => {
    for await (const m of dest) {
      m.ack();
      const id = (m.headers?.get("Nats-Msg-Id") ?? "").split(".")[0]!;
      const t0 = sentAt.get(id);
      if (t0 !== undefined) {
        if (measured.has(id)) latencies.push(performance.now() - t0);
        sentAt.delete(id);
        arrived++;
      }
      if (arrived === warmup) warmedUp();
      if (arrived === envelopes.length) done();
    }
  })();

  if (contender === "routed") {
    const pool = createPool(databaseUrl, { max: 2 });
    await migrateRouterSchema(pool);
    await saveFacility(
      pool,
      Facility.fromPartial({ id: FROM, name: "Bench Clinic", status: FacilityStatus.ACTIVE }),
    );
    await saveFacility(
      pool,
      Facility.fromPartial({ id: TO, name: "Bench Hospital", status: FacilityStatus.ACTIVE }),
    );
    await pool.end();
  }
  const middle = await startMiddle(contender, topology, natsServerUrl, databaseUrl);
  // A middle that dies mid-phase fails the run instead of leaving it waiting for deliveries.
  const died = new Promise<never>((_, reject) =>
    middle.once("exit", (code, signal) =>
      reject(new Error(`bench middle (${contender}) exited (${code ?? signal}) before the phase ended`)),
    ),
  );
  died.catch(() => undefined); // it also exits when the phase ends: that is not a failure

  const subject = topology.inSubject(FROM, "record_transfer");
  const payloads = envelopes.map(encodeEnvelope);
  let cpu0 = processCpuMs(middle.pid);
  let services0 = servicesCpuMs();
  let self0 = process.cpuUsage();
  let start0 = performance.now();
  // At a fixed rate, warm-up and measured messages leave as one evenly paced sequence (no gap
  // between the two); the clock and CPU counters restart when the first measured one is sent.
  const onSend = (i: number): void => {
    if (i !== warmup) return;
    cpu0 = processCpuMs(middle.pid);
    services0 = servicesCpuMs();
    self0 = process.cpuUsage();
    start0 = performance.now();
  };
  // The facilities publish with the batched publisher (acknowledged like js.publish, less CPU):
  // they share the two cores with the middle here, where in a deployment they would not.
  const facilities = createBatchedPublisher(nc);
  if (rate === undefined && warmup > 0) {
    // Saturation: the warm-up is routed and delivered before the timed burst starts, so the
    // burst meets a warmed-up middle and none of the warm-up's backlog.
    const none = (): void => undefined;
    await publishAll(facilities.publish, subject, payloads.slice(0, warmup), ids, undefined, sentAt, none);
    await Promise.race([warm, died]);
    onSend(warmup);
    await publishAll(
      facilities.publish,
      subject,
      payloads.slice(warmup),
      ids.slice(warmup),
      undefined,
      sentAt,
      none,
    );
  } else {
    await publishAll(facilities.publish, subject, payloads, ids, rate, sentAt, onSend);
  }
  await facilities.close();
  await Promise.race([finished, died]);
  const seconds = (performance.now() - start0) / 1000;
  const cpu1 = processCpuMs(middle.pid);
  const services1 = servicesCpuMs();
  const self1 = process.cpuUsage(self0);
  middle.kill("SIGTERM");
  await once(middle, "exit");
  await dest.close();
  await destLoop;
  for (const s of Object.values(topology.streams)) await jsm.streams.delete(s.name);
  const phase: Phase = {
    messages: count,
    seconds: round2(seconds),
    msgsPerSec: Math.round(count / seconds),
    latencyMs: latencySummary([...latencies]),
    middleCpuMsPerMsg: perMessage(cpu0, cpu1, count),
    benchCpuMsPerMsg: Math.round((self1.user + self1.system) / count) / 1000,
    natsServerCpuMsPerMsg: perMessage(services0.natsServer, services1.natsServer, count),
    postgresCpuMsPerMsg: perMessage(services0.postgres, services1.postgres, count),
  };
  return { phase, latencies };
}

function perMessage(ms0: number | null, ms1: number | null, count: number): number | null {
  return ms0 === null || ms1 === null ? null : Math.round(((ms1 - ms0) / count) * 1000) / 1000;
}

/**
 * CPU time in ms from /proc/<pid>/stat (Linux; null elsewhere): user + system, plus with
 * `children` the time of its exited and reaped children (a PostgreSQL backend's, for the postmaster).
 */
function processCpuMs(pid: number | string | undefined, children = false): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after "(comm) ": state is 0, utime 11, stime 12, cutime 13, cstime 14, in clock
    // ticks (USER_HZ = 100).
    const f = stat
      .slice(stat.lastIndexOf(")") + 2)
      .split(" ")
      .map(Number);
    return (f[11]! + f[12]! + (children ? f[13]! + f[14]! : 0)) * 10;
  } catch {
    return null;
  }
}

/** CPU time so far of all nats-server and all postgres processes (null where /proc is not). */
function servicesCpuMs(): { natsServer: number | null; postgres: number | null } {
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return { natsServer: null, postgres: null };
  }
  let natsServer = 0;
  let postgres = 0;
  for (const pid of pids) {
    let comm: string;
    try {
      comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
    } catch {
      continue; // exited meanwhile
    }
    if (comm === "nats-server") natsServer += processCpuMs(pid) ?? 0;
    else if (comm === "postgres") postgres += processCpuMs(pid, true) ?? 0;
  }
  return { natsServer, postgres };
}

const MIDDLE = fileURLToPath(new URL("../router/route-middle.ts", import.meta.url));

/**
 * Node's options in the router's `start` script (services/router/package.json), e.g. the young
 * generation's size: both middles run with them, so the router is measured as it is deployed
 * and the relay under the same runtime.
 */
const MIDDLE_NODE_FLAGS: readonly string[] = (() => {
  const manifest = JSON.parse(
    readFileSync(new URL("../../services/router/package.json", import.meta.url), "utf8"),
  ) as { scripts: { start: string } };
  const [node, ...words] = manifest.scripts.start.split(/\s+/);
  if (node !== "node") throw new Error("services/router's start script no longer starts with node");
  // Every option but the two that load the TypeScript sources (the bench passes those itself).
  return words.filter((w) => w.startsWith("--") && w !== "--import" && !w.startsWith("--conditions="));
})();

/** Starts the router or the bare relay in a child process; resolves once it takes work. */
async function startMiddle(
  mode: "bare" | "routed",
  topology: Topology,
  natsServerUrl: string,
  databaseUrl: string,
): Promise<ChildProcess> {
  // ROUTE_BENCH_PROFILE_DIR=<dir> writes a CPU profile of the middle process there.
  const profileDir = process.env["ROUTE_BENCH_PROFILE_DIR"];
  const profile = profileDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${profileDir}`];
  const nodeArgs = [...MIDDLE_NODE_FLAGS, ...profile, "--conditions=@hix/source", "--import", "tsx", MIDDLE];
  const child = spawn(process.execPath, nodeArgs, {
    env: {
      ...process.env,
      MIDDLE_MODE: mode,
      MIDDLE_TO: TO,
      MIDDLE_NATS_URL: natsServerUrl,
      MIDDLE_PG_URL: databaseUrl,
      MIDDLE_PREFIX: topology.prefix,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const deadline = Date.now() + 60_000;
  while (!output.includes("ready")) {
    if (child.exitCode !== null) throw new Error(`bench middle (${mode}) exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error(`bench middle (${mode}) did not start`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return child;
}

async function publishAll(
  publish: Publish,
  subject: string,
  payloads: Uint8Array[],
  ids: string[],
  rate: number | undefined,
  sentAt: Map<string, number>,
  onSend: (index: number) => void,
): Promise<void> {
  const window = inFlightWindow(WINDOW);
  const t0 = performance.now();
  for (let i = 0; i < payloads.length; i++) {
    if (rate !== undefined) {
      const wait = t0 + (i * 1000) / rate - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    }
    onSend(i);
    sentAt.set(ids[i]!, performance.now());
    await window.add(publish(subject, payloads[i]!, { msgId: ids[i]! }));
  }
  await window.drain();
}

/** A record transfer of about 1 KiB from FROM to TO. */
function sampleEnvelope(i: number): Envelope {
  return newEnvelope({
    fromFacility: FROM,
    toFacility: TO,
    purposeOfUse: PurposeOfUse.TREATMENT,
    body: {
      $case: "recordTransfer",
      value: RecordTransfer.fromPartial({
        patient: { sourceFacility: FROM, localPatientId: `B-${i}` },
        reason: "x".repeat(900),
      }),
    },
  });
}
