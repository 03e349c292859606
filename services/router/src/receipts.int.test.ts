import { afterEach, describe, expect, it } from "vitest";
import { jetStreamPublish, type Publish } from "@hix/bus";
import { ReceiptStatus, hasValidBodyHash, newId, unbatch, type Envelope } from "@hix/proto";
import { SYSTEM_SENDER, receiptMsgId, receiptSender, type ReceiptInput } from "./receipts.js";
import { routerFixture, type RouterFixture } from "./test-support/router-fixture.js";

let fx: RouterFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

const routed = (to: string): ReceiptInput => {
  const regardingId = newId();
  return {
    to,
    regardingId,
    correlationId: regardingId,
    status: ReceiptStatus.ROUTED,
    code: "",
    reason: "routed to hospital-a",
    facilityId: "hospital-a",
  };
};

/** The messages stored on a facility's receipt subject, in order, with their Nats-Msg-Id. */
async function storedReceipts(
  f: RouterFixture,
  facility: string,
): Promise<{ msgId: string; envelope: Envelope }[]> {
  return (await f.stored(facility))
    .filter((d) => d.subject === f.topology.outSubject(facility, "receipt"))
    .map((d) => ({ msgId: d.headers?.get("Nats-Msg-Id") ?? "", envelope: d.envelope }));
}

describe("receipt sender", () => {
  it("sends a lone receipt alone, and what queued behind it as one batch of whole receipts", async () => {
    fx = await routerFixture("receipts");
    // JetStream publishes, the first one held until released: what is sent meanwhile queues.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const publishToStream = jetStreamPublish(fx.js);
    const publish: Publish = async (subject, data, options) => {
      if (calls++ === 0) await held;
      return publishToStream(subject, data, options);
    };
    const sender = receiptSender(publish, fx.topology);

    const first = routed("clinic-b");
    const firstSent = sender.send(first);
    await new Promise((resolve) => setImmediate(resolve)); // its publish has started
    const queued = Array.from({ length: 5 }, () => routed("clinic-b"));
    const elsewhere = routed("practice-d"); // another facility's lane is not held up
    const queuedSent = Promise.all(queued.map((r) => sender.send(r)));
    await sender.send(elsewhere);
    release();
    await Promise.all([firstSent, queuedSent]);

    const stored = await storedReceipts(fx, "clinic-b");
    expect(stored.map((s) => s.envelope.body?.$case)).toEqual(["receipt", "receiptBatch"]);
    expect(stored[0]!.msgId).toBe(receiptMsgId(first));
    const batch = stored[1]!.envelope;
    expect(batch).toMatchObject({ fromFacility: SYSTEM_SENDER, toFacility: "clinic-b" });
    expect(hasValidBodyHash(batch)).toBe(true);
    const inside = unbatch(batch);
    expect(inside.map((e) => (e.body?.$case === "receipt" ? e.body.value.regardingId : ""))).toEqual(
      queued.map((r) => r.regardingId),
    );
    for (const [i, e] of inside.entries()) {
      // Each is the envelope the receipt would have been alone.
      expect(e).toMatchObject({
        fromFacility: SYSTEM_SENDER,
        toFacility: "clinic-b",
        correlationId: queued[i]!.regardingId,
        causationId: queued[i]!.regardingId,
      });
      expect(hasValidBodyHash(e)).toBe(true);
    }
    expect((await storedReceipts(fx, "practice-d")).map((s) => s.msgId)).toEqual([receiptMsgId(elsewhere)]);

    // The same batch published again (a retry after a lost PubAck) is dropped as a duplicate.
    const again = receiptSender(publishToStream, fx.topology);
    await Promise.all([again.send(queued[0]!), again.send(queued[1]!)]);
    await Promise.all([again.send(queued[0]!), again.send(queued[1]!)]);
    expect((await storedReceipts(fx, "clinic-b")).length).toBe(3);
  });

  it("keeps a batch's text under its limit: long refusals are spread over several messages", async () => {
    fx = await routerFixture("receipts-size");
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const sizes: number[] = [];
    const publishToStream = jetStreamPublish(fx.js);
    const publish: Publish = async (subject, data, options) => {
      sizes.push(data.byteLength);
      if (sizes.length === 1) await held;
      return publishToStream(subject, data, options);
    };
    const sender = receiptSender(publish, fx.topology);
    const firstInput = routed("clinic-b");
    const first = sender.send(firstInput);
    await new Promise((resolve) => setImmediate(resolve));
    // Six refusals with 100 KB reasons queue behind it: two fit under 256 KiB of text a batch.
    const long = Array.from({ length: 6 }, () => ({ ...routed("clinic-b"), reason: "r".repeat(100_000) }));
    const queued = Promise.all(long.map((r) => sender.send(r)));
    release();
    await Promise.all([first, queued]);
    expect(sizes).toHaveLength(4); // the first alone, then three batches of two
    expect(Math.max(...sizes)).toBeLessThan(300 * 1024);
    const stored = await storedReceipts(fx, "clinic-b");
    expect(stored.flatMap((s) => unbatch(s.envelope)).map((e) => e.causationId)).toEqual(
      [firstInput, ...long].map((r) => r.regardingId),
    );
  });

  it("fails every receipt of a failed publish, and sends what queued behind it", async () => {
    fx = await routerFixture("receipts-fail");
    const publishToStream = jetStreamPublish(fx.js);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const publish: Publish = async (subject, data, options) => {
      calls++;
      if (calls === 1) {
        await held;
        throw new Error("no PubAck within 5000 ms");
      }
      return publishToStream(subject, data, options);
    };
    const sender = receiptSender(publish, fx.topology);
    // Two made in one turn go together; their publish fails.
    const failed = Promise.allSettled([sender.send(routed("clinic-b")), sender.send(routed("clinic-b"))]);
    await new Promise((resolve) => setImmediate(resolve));
    const behind = [routed("clinic-b"), routed("clinic-b")];
    const sentBehind = Promise.all(behind.map((r) => sender.send(r)));
    release();
    expect((await failed).map((r) => r.status)).toEqual(["rejected", "rejected"]);
    await sentBehind; // the failure did not leave the facility's lane stuck
    expect(calls).toBe(2);
    const stored = await storedReceipts(fx, "clinic-b");
    expect(stored.flatMap((s) => unbatch(s.envelope)).map((e) => e.causationId)).toEqual(
      behind.map((r) => r.regardingId),
    );
  });
});
