import { afterEach, describe, expect, it } from "vitest";
import { ensureStreams } from "./streams.js";
import { publish } from "./publish.js";
import { startConsumer, type Delivery } from "./consumer.js";
import { ack, reject, retry } from "./outcome.js";
import { DLQ_HEADERS, REPLAY_HEADER, listDeadLetters, replayDeadLetter } from "./dead-letter.js";
import { kvIdempotencyStore } from "./idempotency.js";
import { HixError } from "@hix/runtime";
import { busFixture, bytes, eventually, text, type BusFixture } from "./test-support/bus-fixture.js";

let fx: BusFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

describe("bus on real JetStream", () => {
  it("ensureStreams is idempotent and applies limits", async () => {
    fx = await busFixture("streams");
    const memory = { storage: "memory" as const };
    const options = {
      in: { ...memory, maxAgeMs: 60_000, duplicateWindowMs: 30_000 },
      out: memory,
      dlq: memory,
    };
    await ensureStreams(fx.jsm, fx.topology, options);
    await ensureStreams(fx.jsm, fx.topology, options);
    const info = await fx.jsm.streams.info(fx.topology.streams.in.name);
    expect(info.config.max_age).toBe(60_000 * 1_000_000);
    expect(info.config.duplicate_window).toBe(30_000 * 1_000_000);
    expect(info.config.subjects).toEqual(fx.topology.streams.in.subjects);
  });

  it("stores a duplicate publish once", async () => {
    fx = await busFixture("dedupe");
    const subject = fx.topology.inSubject("clinic-a", "record_request");
    const first = await publish(fx.js, subject, bytes("one"), { msgId: "01HZX0000000000000000000AA" });
    const second = await publish(fx.js, subject, bytes("one again"), { msgId: "01HZX0000000000000000000AA" });
    expect(first.duplicate).toBe(false);
    expect(second.duplicate).toBe(true);
    expect(second.seq).toBe(first.seq);
    const info = await fx.jsm.streams.info(fx.topology.streams.in.name);
    expect(info.state.messages).toBe(1);
  });

  it("redelivers a transiently failing message with backoff, then acks it", async () => {
    fx = await busFixture("transient");
    const subject = fx.topology.inSubject("clinic-a", "record_transfer");
    const seen: { delivery: number; at: number }[] = [];
    const consumer = await startConsumer({
      ...fx,
      stream: fx.topology.streams.in.name,
      durable: "transient",
      backoff: () => 300,
      handler: async (d: Delivery) => {
        seen.push({ delivery: d.deliveryCount, at: Date.now() });
        return d.deliveryCount < 3 ? retry("test.unavailable", "downstream unavailable") : ack();
      },
    });
    await publish(fx.js, subject, bytes("x"), { msgId: "m-transient" });
    await eventually(() => consumer.stats.acked === 1);
    await consumer.stop();
    expect(seen.map((s) => s.delivery)).toEqual([1, 2, 3]);
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(250);
    expect(seen[2]!.at - seen[1]!.at).toBeGreaterThanOrEqual(250);
    expect(consumer.stats).toMatchObject({ acked: 1, retried: 2, deadLettered: 0 });
    const dlq = await fx.jsm.streams.info(fx.topology.streams.dlq.name);
    expect(dlq.state.messages).toBe(0);
  });

  it("dead-letters a poison message after max deliveries with its reason, and keeps the stream flowing", async () => {
    fx = await busFixture("poison");
    const subject = fx.topology.inSubject("clinic-a", "record_request");
    const handled: string[] = [];
    const consumer = await startConsumer({
      ...fx,
      stream: fx.topology.streams.in.name,
      durable: "poison",
      maxDeliver: 3,
      backoff: () => 50,
      handler: async (d) => {
        if (text(d.data) === "poison") throw new HixError("test.poison", "always fails", { retryable: true });
        handled.push(text(d.data));
        return ack();
      },
    });
    await publish(fx.js, subject, bytes("poison"), { msgId: "m-poison" });
    for (let i = 0; i < 20; i++) await publish(fx.js, subject, bytes(`ok-${i}`), { msgId: `m-ok-${i}` });
    await eventually(() => consumer.stats.deadLettered === 1 && consumer.stats.acked === 20);
    await consumer.stop();
    expect(handled).toHaveLength(20);

    const letters = await listDeadLetters(fx.jsm, fx.topology);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      originalSubject: subject,
      originalStream: fx.topology.streams.in.name,
      originalSequence: 1,
      consumer: "poison",
      deliveries: 3,
      code: "test.poison",
      msgId: "m-poison",
    });
    expect(letters[0]!.reason).toMatch(/always fails.*gave up after 3 deliveries/);
    expect(text(letters[0]!.data)).toBe("poison");
    expect(fx.logLines.some((l) => l["msg"] === "message dead-lettered" && l["code"] === "test.poison")).toBe(
      true,
    );
  });

  it("dead-letters a rejected message at once, and a replay runs it through again", async () => {
    fx = await busFixture("reject");
    const subject = fx.topology.inSubject("clinic-b", "referral_packet");
    let fixed = false;
    const calls: Delivery[] = [];
    const consumer = await startConsumer({
      ...fx,
      stream: fx.topology.streams.in.name,
      durable: "reject",
      handler: async (d) => {
        calls.push(d);
        return fixed ? ack() : reject("test.unknown_facility", "facility clinic-b is not in the directory");
      },
    });
    await publish(fx.js, subject, bytes("packet"), { msgId: "m-reject" });
    await eventually(() => consumer.stats.deadLettered === 1);
    const [letter] = await listDeadLetters(fx.jsm, fx.topology);
    expect(letter).toMatchObject({ deliveries: 1, code: "test.unknown_facility" });
    const stored = await fx.jsm.streams.getMessage(fx.topology.streams.dlq.name, {
      seq: letter!.dlqSequence,
    });
    expect(stored.header.get(DLQ_HEADERS.reason)).toBe("facility clinic-b is not in the directory");

    fixed = true;
    const replayed = await replayDeadLetter(fx.js, fx.jsm, fx.topology, letter!.dlqSequence);
    expect(replayed.subject).toBe(subject);
    await eventually(() => consumer.stats.acked === 1);
    await consumer.stop();
    expect(calls).toHaveLength(2);
    expect(calls[1]!.headers?.get(REPLAY_HEADER)).toBe(String(letter!.dlqSequence));
    expect(await listDeadLetters(fx.jsm, fx.topology)).toHaveLength(0);
  });

  it("skips a message whose effect was already done, past the duplicate window", async () => {
    fx = await busFixture("idem", { duplicateWindowMs: 200 });
    const subject = fx.topology.inSubject("clinic-a", "patient_announcement");
    const store = await kvIdempotencyStore(fx.js, {
      bucket: `${fx.topology.streams.in.name}_IDEM`,
      ttlMs: 60_000,
    });
    const effects: string[] = [];
    const consumer = await startConsumer({
      ...fx,
      stream: fx.topology.streams.in.name,
      durable: "idem",
      idempotency: store,
      handler: async (d) => {
        effects.push(d.messageId);
        return ack();
      },
    });
    await publish(fx.js, subject, bytes("a"), { msgId: "m-idem" });
    await eventually(() => consumer.stats.acked === 1);
    await new Promise((r) => setTimeout(r, 400)); // outlive the stream's duplicate window
    const again = await publish(fx.js, subject, bytes("a"), { msgId: "m-idem" });
    expect(again.duplicate).toBe(false); // JetStream no longer remembers it …
    await eventually(() => consumer.stats.duplicates === 1);
    await consumer.stop();
    expect(effects).toEqual(["m-idem"]); // … but the consumer does.
    await fx.jsm.streams.delete(`KV_${fx.topology.streams.in.name}_IDEM`);
  });

  it("runs up to `concurrency` handlers at once, never more, and starts the next as one ends", async () => {
    fx = await busFixture("concurrency");
    const subject = fx.topology.inSubject("clinic-a", "record_transfer");
    let running = 0;
    let most = 0;
    const consumer = await startConsumer({
      ...fx,
      stream: fx.topology.streams.in.name,
      durable: "concurrency",
      concurrency: 4,
      handler: async () => {
        most = Math.max(most, ++running);
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 20)); // they end out of order
        running--;
        return ack();
      },
    });
    for (let i = 0; i < 60; i++) await publish(fx.js, subject, bytes(`m${i}`), { msgId: `m-conc-${i}` });
    await eventually(() => consumer.stats.acked === 60);
    await consumer.stop();
    expect(most).toBe(4);
  });

  it("keeps a handler that outlasts ack_wait from being redelivered while it works", async () => {
    fx = await busFixture("keepalive");
    const subject = fx.topology.inSubject("clinic-a", "record_transfer");
    const deliveries: number[] = [];
    const consumer = await startConsumer({
      ...fx,
      stream: fx.topology.streams.in.name,
      durable: "keepalive",
      ackWaitMs: 1500,
      handler: async (d: Delivery) => {
        deliveries.push(d.deliveryCount);
        await new Promise((r) => setTimeout(r, 4000)); // more than twice ack_wait
        return ack();
      },
    });
    await publish(fx.js, subject, bytes("slow"), { msgId: "m-keepalive" });
    await eventually(() => consumer.stats.acked === 1, 10_000);
    await consumer.stop();
    expect(deliveries).toEqual([1]);
  }, 15_000);

  it("stop() finishes in-flight work before resolving, and a restart takes what was left", async () => {
    fx = await busFixture("stop");
    const subject = fx.topology.inSubject("clinic-a", "receipt");
    const finished = new Set<string>();
    let started = 0;
    const options = {
      ...fx,
      stream: fx.topology.streams.in.name,
      durable: "stop",
      concurrency: 2,
      ackWaitMs: 1000,
      handler: async (d: Delivery) => {
        started++;
        await new Promise((r) => setTimeout(r, 200));
        finished.add(text(d.data));
        return ack();
      },
    };
    const first = await startConsumer(options);
    for (let i = 0; i < 8; i++) await publish(fx.js, subject, bytes(`m${i}`), { msgId: `m-stop-${i}` });
    await eventually(() => started >= 1);
    await first.stop();
    expect(finished.size).toBe(started); // nothing was abandoned half-way
    expect(first.stats.acked).toBe(started);
    expect(started).toBeLessThan(8);

    const second = await startConsumer(options);
    await eventually(() => finished.size === 8);
    await second.stop();
  });
});
