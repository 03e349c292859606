// The middle of `pnpm bench route`, run as its own process like a deployed router: either the
// router (`start()` from @hix/router) or a bare nats.js relay without logic (consume HIX_IN →
// publish to the destination's HIX_OUT subject with a derived Nats-Msg-Id → ack). Prints
// "ready" once it takes work; stops cleanly on SIGTERM.
import { AckPolicy, connect, nanos } from "nats";
import { createTopology, inFlightWindow } from "@hix/bus";
import { createPool } from "@hix/db";
import { createLogger } from "@hix/runtime";
import { ROUTER_CONCURRENCY, start } from "@hix/router";

const env = (key: string): string => {
  const value = process.env[key];
  if (value === undefined) throw new Error(`route-middle needs ${key}`);
  return value;
};

const mode = env("MIDDLE_MODE");
const to = env("MIDDLE_TO");
const nc = await connect({ servers: env("MIDDLE_NATS_URL"), name: `bench-${mode}` });
const topology = createTopology(env("MIDDLE_PREFIX"));
let stop: () => Promise<void>;

if (mode === "routed") {
  const pool = createPool(env("MIDDLE_PG_URL"), { max: 10 });
  const router = await start({
    nc,
    pool,
    databaseUrl: env("MIDDLE_PG_URL"),
    topology,
    logger: createLogger({ service: "bench-router", level: "warn" }),
    patientHashKey: "bench-patient-hash-key-000000000",
  });
  stop = async () => {
    await router.stop();
    await pool.end();
  };
} else {
  const jsm = await nc.jetstreamManager();
  const js = nc.jetstream();
  await jsm.consumers.add(topology.streams.in.name, {
    durable_name: "relay",
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(30_000),
    max_ack_pending: Math.max(1000, ROUTER_CONCURRENCY * 8),
  });
  const messages = await (
    await js.consumers.get(topology.streams.in.name, "relay")
  ).consume({
    max_messages: ROUTER_CONCURRENCY * 2,
  });
  const subject = topology.outSubject(to, "record_transfer");
  // The same window as the router's consumer, so the two differ only in what they do.
  const inFlight = inFlightWindow(ROUTER_CONCURRENCY);
  const loop = (async () => {
    for await (const m of messages) {
      const id = m.headers?.get("Nats-Msg-Id") ?? "";
      await inFlight.add(js.publish(subject, m.data, { msgID: `${id}.${to}` }).then(() => m.ack()));
    }
  })();
  stop = async () => {
    await messages.close();
    await loop;
    await inFlight.drain();
  };
}

process.stdout.write("ready\n");
process.once("SIGTERM", () => {
  void (async () => {
    await stop();
    await nc.drain();
    process.exit(0);
  })();
});
