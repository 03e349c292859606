// A consumer process for the crash test (consumer-crash.int.test.ts): it turns each message
// into a PostgreSQL row, claiming the message id in the same transaction as the effect so a
// redelivery after a crash cannot apply it twice. The test SIGKILLs it mid-batch.
import { connect } from "nats";
import pg from "pg";
import { createLogger } from "@hix/runtime";
import { ack } from "../outcome.js";
import { startConsumer } from "../consumer.js";
import { createTopology } from "../topology.js";

const env = (key: string): string => {
  const value = process.env[key];
  if (value === undefined) throw new Error(`kill-worker needs ${key}`);
  return value;
};

const pool = new pg.Pool({ connectionString: env("WORKER_PG_URL"), max: 8 });
const nc = await connect({ servers: env("WORKER_NATS_URL"), name: "kill-worker" });
const topology = createTopology(env("WORKER_PREFIX"));
let alreadyDone = 0;
const consumer = await startConsumer({
  js: nc.jetstream(),
  jsm: await nc.jetstreamManager(),
  topology,
  stream: topology.streams.in.name,
  durable: "crash",
  concurrency: 8,
  ackWaitMs: 2000,
  logger: createLogger({ service: "kill-worker", level: "warn" }),
  handler: async (d) => {
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      const claimed = await client.query(
        "INSERT INTO processed (message_id) VALUES ($1) ON CONFLICT DO NOTHING",
        [d.messageId],
      );
      if (claimed.rowCount === 1) {
        await client.query("INSERT INTO effects (message_id) VALUES ($1)", [d.messageId]);
        await new Promise((r) => setTimeout(r, 10)); // widen the window a kill can land in
      } else {
        alreadyDone++;
      }
      await client.query("COMMIT");
    } catch (err) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
    return ack();
  },
});
process.stdout.write("ready\n");
process.once("SIGTERM", () => {
  void (async () => {
    await consumer.stop();
    await nc.drain();
    await pool.end();
    process.stdout.write(`${JSON.stringify({ ...consumer.stats, alreadyDone })}\n`);
    process.exit(0);
  })();
});
