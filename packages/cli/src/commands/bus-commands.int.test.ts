// hix send, tail and dlq, run as child processes against real NATS JetStream.
import { once } from "node:events";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTopology,
  ensureStreams,
  listDeadLetters,
  publishEnvelope,
  writeDeadLetter,
  type Topology,
} from "@hix/bus";
import {
  AnnouncementKind,
  Patient,
  PurposeOfUse,
  decodeEnvelope,
  encodeEnvelope,
  newEnvelope,
} from "@hix/proto";
import { natsUrl, uniqueName } from "@hix/testkit";
import { runHix, startHix } from "../test-support/run-hix.js";

let nc: NatsConnection;
let topology: Topology;
let env: Record<string, string>;
const dir = mkdtempSync(join(tmpdir(), "hix-cli-"));

beforeAll(async () => {
  const url = await natsUrl();
  nc = await connect({ servers: url });
  topology = createTopology(uniqueName("cli").toLowerCase());
  const memory = { storage: "memory" as const };
  await ensureStreams(await nc.jetstreamManager(), topology, { in: memory, out: memory, dlq: memory });
  env = { HIX_NATS_URL: url, HIX_TOPOLOGY_PREFIX: topology.prefix };
});
afterAll(async () => {
  const jsm = await nc.jetstreamManager();
  for (const s of Object.values(topology.streams)) await jsm.streams.delete(s.name).catch(() => undefined);
  await nc.drain();
});

const announcement = () =>
  newEnvelope({
    fromFacility: "clinic-a",
    purposeOfUse: PurposeOfUse.TREATMENT,
    body: {
      $case: "patientAnnouncement",
      value: {
        kind: AnnouncementKind.REGISTERED,
        patient: Patient.fromPartial({
          localPatientId: "MRN-778812",
          names: [{ given: ["Zebediah"], family: "Quillfeather" }],
        }),
        retiredIds: [],
        sourceEvent: "ADT^A04",
        occurredAt: new Date(),
      },
    },
  });

describe("hix send", () => {
  it("submits the envelope in the file to HIX_IN on behalf of the facility", async () => {
    const file = join(dir, "request.json");
    writeFileSync(
      file,
      JSON.stringify({
        purposeOfUse: "PURPOSE_OF_USE_TREATMENT",
        recordRequest: { facilityId: "clinic-a", reason: "continuity of care" },
      }),
    );
    const r = await runHix(["send", file, "--from", "hospital-a", "--wait", "0"], { env });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const id = /sent record_request (\w{26}) from hospital-a/.exec(r.stdout)?.[1];
    expect(id).toBeDefined();
    const jsm = await nc.jetstreamManager();
    const stored = await jsm.streams.getMessage(topology.streams.in.name, {
      last_by_subj: topology.inSubject("hospital-a", "record_request"),
    });
    const envelope = decodeEnvelope(stored.data);
    expect(envelope.id).toBe(id);
    expect(envelope.body?.$case).toBe("recordRequest");
  });

  it("refuses a file without a body with one line and exit 2", async () => {
    const file = join(dir, "empty.json");
    writeFileSync(file, JSON.stringify({ fromFacility: "hospital-a" }));
    const r = await runHix(["send", file, "--wait", "0"], { env });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/has no body/);
  });

  it("refuses a file that is not JSON without quoting it", async () => {
    const file = join(dir, "broken.json");
    // An unquoted value: V8's own message would quote the text around it ("…family": Quillfeath…").
    writeFileSync(file, '{"recordRequest": {"patient": {"names": [{"family": Quillfeather}]}}}');
    const r = await runHix(["send", file, "--from", "hospital-a", "--wait", "0"], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is not valid JSON/);
    expect(r.stderr).not.toContain("Quillfeath");
  });

  it("says NATS is unreachable with exit 3", async () => {
    const file = join(dir, "request2.json");
    writeFileSync(file, JSON.stringify({ purposeOfUse: "PURPOSE_OF_USE_TREATMENT", recordRequest: {} }));
    const r = await runHix(["send", file, "--from", "h", "--nats-url", "nats://127.0.0.1:1"], { env });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/cannot reach NATS/);
  });
});

describe("hix tail", () => {
  it("prints each message decoded by type with patient fields masked", async () => {
    const tail = startHix(["tail", "--count", "1", "--json"], env);
    await waitFor(() => tail.errors().includes("watching"));
    const envelope = announcement();
    await publishEnvelope(nc.jetstream(), topology.inSubject("clinic-a", "patient_announcement"), envelope);
    await once(tail.child, "exit");
    expect(tail.child.exitCode).toBe(0);
    const line = JSON.parse(tail.output().trim()) as { type: string; message: Record<string, unknown> };
    expect(line.type).toBe("hix.v1.Envelope");
    expect(line.message["id"]).toBe(envelope.id);
    expect(line.message["body"]).toBe("patient_announcement");
    expect(tail.output()).not.toContain("Quillfeather");
    expect(tail.output()).not.toContain("Zebediah");
    expect(tail.output()).not.toContain("MRN-778812");
  });
});

describe("hix dlq", () => {
  it("lists, shows and replays a dead letter", async () => {
    const envelope = announcement();
    const subject = topology.inSubject("clinic-a", "patient_announcement");
    await writeDeadLetter(nc.jetstream(), topology, {
      originalSubject: subject,
      originalStream: topology.streams.in.name,
      originalSequence: 42,
      consumer: "router",
      deliveries: 1,
      code: "router.unknown_facility",
      reason: "facility clinic-a is not in the directory",
      msgId: envelope.id,
      data: encodeEnvelope(envelope),
    });
    const list = await runHix(["dlq", "list"], { env });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/router\.unknown_facility/);
    expect(list.stdout).toMatch(/facility clinic-a is not in the directory/);

    const [letter] = await listDeadLetters(await nc.jetstreamManager(), topology);
    const show = await runHix(["dlq", "show", String(letter!.dlqSequence), "--json"], { env });
    expect(show.code).toBe(0);
    const detail = JSON.parse(show.stdout) as { code: string; envelope: { id: string; kind: string } };
    expect(detail).toMatchObject({
      code: "router.unknown_facility",
      envelope: { id: envelope.id, kind: "patientAnnouncement" },
    });
    expect(show.stdout).not.toContain("Quillfeather");

    const missing = await runHix(["dlq", "show", "999999"], { env });
    expect(missing.code).toBe(1);

    const replay = await runHix(["dlq", "replay", "--all"], { env });
    expect(replay.code).toBe(0);
    expect(replay.stdout).toMatch(/1 replayed, 0 failed/);
    expect(await listDeadLetters(await nc.jetstreamManager(), topology)).toHaveLength(0);
    const stored = await (
      await nc.jetstreamManager()
    ).streams.getMessage(topology.streams.in.name, { last_by_subj: subject });
    expect(decodeEnvelope(stored.data).id).toBe(envelope.id);
  });
});

async function waitFor(predicate: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}
