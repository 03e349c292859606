import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { publishEnvelope } from "@hix/bus";
import { PurposeOfUse, ReceiptStatus, RecordTransfer, newEnvelope } from "@hix/proto";
import { natsUrl } from "@hix/testkit";
import { searchLedger, verifyLedger } from "./audit-ledger.js";
import { eventually, routerFixture, type RouterFixture } from "./test-support/router-fixture.js";

const WORKER = fileURLToPath(new URL("./test-support/router-worker.ts", import.meta.url));
const MESSAGES = 400;

let fx: RouterFixture | undefined;
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children) child.kill("SIGKILL");
  children.length = 0;
  await fx?.close();
  fx = undefined;
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

describe("two router replicas on one durable", () => {
  it("share the work, and with one SIGKILLed mid-run every message is delivered exactly once", async () => {
    fx = await routerFixture("replicas");
    const env = {
      WORKER_PG_URL: fx.db.url,
      WORKER_NATS_URL: await natsUrl(),
      WORKER_PREFIX: fx.topology.prefix,
    };
    const a = await startWorker(env);
    const b = await startWorker(env);

    const delivered = async (): Promise<number> => (await searchLedger(fx!.pool, { limit: 10_000 })).length;
    // Kill replica a while messages are still being published: routers that keep pace with the
    // publisher would otherwise have finished them all before a kill after the loop.
    const killed = (async () => {
      await eventually(async () => (await delivered()) >= MESSAGES / 4, 30_000);
      a.child.kill("SIGKILL");
      await once(a.child, "exit");
      expect(await delivered()).toBeLessThan(MESSAGES); // it died mid-run
    })();
    const ids: string[] = [];
    for (let i = 0; i < MESSAGES; i++) {
      const e = newEnvelope({
        fromFacility: "clinic-b",
        toFacility: "hospital-a",
        purposeOfUse: PurposeOfUse.TREATMENT,
        body: {
          $case: "recordTransfer",
          value: RecordTransfer.fromPartial({ patient: { localPatientId: `P${i}` } }),
        },
      });
      ids.push(e.id);
      await publishEnvelope(fx.js, fx.topology.inSubject("clinic-b", "record_transfer"), e);
    }
    await killed;

    await eventually(async () => {
      const info = await fx!.jsm.consumers.info(fx!.topology.streams.in.name, "router");
      return info.num_pending === 0 && info.num_ack_pending === 0;
    }, 60_000);
    b.child.kill("SIGTERM");
    await once(b.child, "exit");
    const stats = JSON.parse(b.output.at(-1)!) as { acked: number; deadLettered: number };
    expect(stats.deadLettered).toBe(0);
    expect(stats.acked).toBeLessThan(MESSAGES); // the killed replica had acked its share

    const transfers = (await fx.inbox("hospital-a")).map((d) => d.envelope.id);
    expect(transfers).toHaveLength(MESSAGES);
    expect(new Set(transfers)).toEqual(new Set(ids));
    // Every message has its ROUTED receipt. Receipts go out in batches, so one the killed replica
    // had sent is sent again with its message: a facility may see it twice, with the same key.
    const receipts = (await fx.inbox("clinic-b")).flatMap((d) =>
      d.envelope.body?.$case === "receipt" ? [d.envelope.body.value] : [],
    );
    expect(receipts.every((r) => r.status === ReceiptStatus.ROUTED)).toBe(true);
    expect(new Set(receipts.map((r) => r.regardingId))).toEqual(new Set(ids));
    const perMessage = new Map<string, number>();
    for (const r of receipts) perMessage.set(r.regardingId, (perMessage.get(r.regardingId) ?? 0) + 1);
    expect(Math.max(...perMessage.values())).toBeLessThanOrEqual(2); // once from each replica at most
    const rows = await searchLedger(fx.pool, { limit: 10_000 });
    expect(rows).toHaveLength(MESSAGES);
    expect(new Set(rows.map((r) => r.envelopeId)).size).toBe(MESSAGES);
    expect(await verifyLedger(fx.pool)).toEqual({ ok: true, rows: MESSAGES });
  });
});
