// A router process for the replica test (replicas.int.test.ts): it runs `start()` on the given
// topology and database, prints "ready", and stops cleanly on SIGTERM. The test SIGKILLs one.
import { connect } from "nats";
import { createTopology } from "@hix/bus";
import { createPool } from "@hix/db";
import { createLogger } from "@hix/runtime";
import { start } from "../app.js";

const env = (key: string): string => {
  const value = process.env[key];
  if (value === undefined) throw new Error(`router-worker needs ${key}`);
  return value;
};

const pool = createPool(env("WORKER_PG_URL"), { max: 6 });
const nc = await connect({ servers: env("WORKER_NATS_URL"), name: "router-worker" });
const memory = { storage: "memory" as const };
const router = await start({
  nc,
  pool,
  databaseUrl: env("WORKER_PG_URL"),
  topology: createTopology(env("WORKER_PREFIX")),
  logger: createLogger({ service: "router-worker", level: "warn" }),
  patientHashKey: "test-patient-hash-key-0123456789",
  streamOptions: { in: memory, out: memory, dlq: memory },
  concurrency: 16,
  ackWaitMs: 2000,
});
process.stdout.write("ready\n");
process.once("SIGTERM", () => {
  void (async () => {
    await router.stop();
    await nc.drain();
    await pool.end();
    process.stdout.write(`${JSON.stringify(router.stats)}\n`);
    process.exit(0);
  })();
});
