import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { createTestDatabase, natsUrl, type TestDatabase } from "@hix/testkit";
import { publish } from "./publish.js";
import { busFixture, bytes, eventually, type BusFixture } from "./test-support/bus-fixture.js";

const WORKER = fileURLToPath(new URL("./test-support/kill-worker.ts", import.meta.url));
const MESSAGES = 300;

let fx: BusFixture | undefined;
let db: TestDatabase | undefined;
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children) child.kill("SIGKILL");
  children.length = 0;
  await fx?.close();
  await db?.drop();
  fx = undefined;
  db = undefined;
});

async function startWorker(env: Record<string, string>): Promise<{ child: ChildProcess; output: string[] }> {
  const child = spawn(process.execPath, ["--conditions=@hix/source", "--import", "tsx", WORKER], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  const output: string[] = [];
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => output.push(...chunk.trim().split("\n")));
  await eventually(() => output.includes("ready"), 30_000);
  return { child, output };
}

describe("a consumer killed mid-batch", () => {
  it("loses nothing, and after a restart every message's effect exists exactly once", async () => {
    fx = await busFixture("crash", { storage: "file" });
    db = await createTestDatabase();
    const sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    await sql.query("CREATE TABLE processed (message_id text PRIMARY KEY)");
    // No unique constraint: a second application of an effect would show as a second row.
    await sql.query("CREATE TABLE effects (message_id text NOT NULL)");
    const effects = async (): Promise<{ rows: number; distinct: number }> => {
      const r = await sql.query<{ rows: string; distinct: string }>(
        "SELECT count(*) AS rows, count(DISTINCT message_id) AS distinct FROM effects",
      );
      return { rows: Number(r.rows[0]!.rows), distinct: Number(r.rows[0]!.distinct) };
    };

    const subject = fx.topology.inSubject("clinic-a", "record_transfer");
    for (let i = 0; i < MESSAGES; i++) await publish(fx.js, subject, bytes(`m${i}`), { msgId: `crash-${i}` });
    const env = {
      WORKER_PG_URL: db.url,
      WORKER_NATS_URL: await natsUrl(),
      WORKER_PREFIX: fx.topology.prefix,
    };

    const first = await startWorker(env);
    await eventually(async () => (await effects()).rows >= MESSAGES / 4, 30_000);
    first.child.kill("SIGKILL");
    await once(first.child, "exit");
    const atKill = await effects();
    expect(atKill.rows).toBeLessThan(MESSAGES); // it really died mid-batch

    const second = await startWorker(env);
    await eventually(async () => (await effects()).rows >= MESSAGES, 60_000);
    await eventually(async () => {
      const info = await fx!.jsm.consumers.info(fx!.topology.streams.in.name, "crash");
      return info.num_pending === 0 && info.num_ack_pending === 0;
    }, 30_000);
    second.child.kill("SIGTERM");
    await once(second.child, "exit");

    expect(await effects()).toEqual({ rows: MESSAGES, distinct: MESSAGES });
    const stats = JSON.parse(second.output.at(-1)!) as { acked: number; deadLettered: number };
    expect(stats.deadLettered).toBe(0);
    expect(stats.acked).toBeGreaterThanOrEqual(MESSAGES - atKill.rows);
    await sql.end();
  });
});
