// The batched publisher against a real JetStream: it must give exactly what `js.publish` gives
// (stored before it resolves, duplicates flagged, refusals rejected as retryable errors).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type JetStreamManager, type NatsConnection } from "nats";
import { PublishError } from "./publish.js";
import { createTopology, type Topology } from "./topology.js";
import { ensureStreams } from "./streams.js";
import { natsUrl, uniqueName } from "@hix/testkit";
import { createBatchedPublisher, type BatchedPublisher, type PubAck } from "./batched-publisher.js";

let nc: NatsConnection;
let jsm: JetStreamManager;
let topology: Topology;
let publisher: BatchedPublisher;

beforeAll(async () => {
  nc = await connect({ servers: await natsUrl(), name: "publisher-test" });
  jsm = await nc.jetstreamManager();
  topology = createTopology(uniqueName("pub").toLowerCase());
  const memory = { storage: "memory" as const };
  await ensureStreams(jsm, topology, { in: memory, out: memory, dlq: memory });
  publisher = createBatchedPublisher(nc, { timeoutMs: 2000 });
});

afterAll(async () => {
  await publisher.close();
  for (const s of Object.values(topology.streams)) await jsm.streams.delete(s.name).catch(() => undefined);
  await nc.drain();
});

describe("createBatchedPublisher", () => {
  it("resolves each publish of one turn with its own stored sequence, headers included", async () => {
    const subject = topology.outSubject("hospital-a", "record_transfer");
    const acks = (await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        publisher.publish(subject, new TextEncoder().encode(`m${i}`), {
          msgId: `batch-${i}`,
          expectStream: topology.streams.out.name,
          headers: { "Hix-Test": `v${i}` },
        }),
      ),
    )) as PubAck[];
    expect(new Set(acks.map((a) => a.seq)).size).toBe(50);
    expect(acks.every((a) => a.stream === topology.streams.out.name && !a.duplicate)).toBe(true);
    const stored = await jsm.streams.getMessage(topology.streams.out.name, { seq: acks[7]!.seq });
    expect(new TextDecoder().decode(stored.data)).toBe("m7");
    expect(stored.header.get("Nats-Msg-Id")).toBe("batch-7");
    expect(stored.header.get("Hix-Test")).toBe("v7");
    expect(publisher.pending).toBe(0);
  });

  it("flags a repeated message id as a duplicate and stores it once", async () => {
    const subject = topology.outSubject("clinic-b", "receipt");
    const first = (await publisher.publish(subject, new Uint8Array([1]), { msgId: "dup-1" })) as PubAck;
    const again = (await publisher.publish(subject, new Uint8Array([1]), { msgId: "dup-1" })) as PubAck;
    expect(first.duplicate).toBe(false);
    expect(again).toEqual({ stream: first.stream, seq: first.seq, duplicate: true });
  });

  it("refuses a header that would break the header block, and stores nothing", async () => {
    const subject = topology.outSubject("clinic-d", "receipt");
    const before = (await jsm.streams.info(topology.streams.out.name)).state.messages;
    for (const options of [
      { msgId: "injected\r\nNats-Expected-Stream: OTHER" },
      { msgId: "bad-name", headers: { "Has Space": "v" } },
      { msgId: "bad-value", headers: { "Hix-Test": "a\nb" } },
    ]) {
      await expect(publisher.publish(subject, new Uint8Array([1]), options)).rejects.toThrow(
        /client refused the publish/,
      );
    }
    expect((await jsm.streams.info(topology.streams.out.name)).state.messages).toBe(before);
    expect(publisher.pending).toBe(0);
  });

  it.each([
    ["a subject no stream listens on", "nobody.listens.here", undefined, /no responders/],
    ["the wrong expected stream", "", "NOT_THE_STREAM", /not acknowledged/],
  ])("rejects %s with a retryable PublishError", async (_name, subjectOrEmpty, expectStream, message) => {
    const subject = subjectOrEmpty || topology.outSubject("clinic-c", "receipt");
    const err = await publisher
      .publish(subject, new Uint8Array([1]), {
        msgId: `refused-${subject}`,
        ...(expectStream === undefined ? {} : { expectStream }),
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(PublishError);
    expect((err as PublishError).code).toBe("bus.publish_failed");
    expect((err as PublishError).retryable).toBe(true);
    expect((err as PublishError).message).toMatch(message);
    expect(publisher.pending).toBe(0);
  });
});
