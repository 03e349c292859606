/**
 * The adapter as deployed (a child process) against real NATS JetStream, driven by an MLLP
 * client this project did not write (node-hl7-client). What must hold:
 *  - every shared HL7 v2 sample gets exactly one ACK, naming its MSH-10, with the code the
 *    codec predicts (AA when it converts; AE/AR otherwise), and AA'd messages are on HIX_IN;
 *  - a resend of the same MSH-10 is acknowledged again but stored once;
 *  - with NATS unreachable there is no AA, and an adapter killed between receipt and ACK
 *    leaves the sender without an ACK.
 */
import { afterEach, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "nats";
import { Client, Message } from "node-hl7-client";
import { hl7v2ToCanonical, parse } from "@hix/hl7v2";
import { decodeEnvelope, type Envelope } from "@hix/proto";
import { natsUrl, startNatsServer, uniqueName, type TestNatsServer } from "@hix/testkit";
import { startAdapterProcess, type AdapterProcess } from "./adapter-process.js";
import { sampleMessages } from "./corpus.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

function profile(id: string) {
  return {
    id,
    name: "MLLP test hospital",
    routes: { recordTransfer: "test-clinic", referralPacket: "test-clinic" },
    inbound: { mllp: { host: "127.0.0.1", port: 0 } },
  };
}

/** Sends one message with node-hl7-client and resolves with the ACK text, or "none" after timeoutMs. */
async function sendWithForeignClient(port: number, text: string, timeoutMs: number): Promise<string> {
  // node-hl7-client pins a connection to one HL7 version and refuses messages of another.
  const version = versionOf(text) as "2.5";
  const client = new Client({ host: "127.0.0.1", version });
  let resolveAck: (ack: string) => void = () => undefined;
  const acked = new Promise<string>((r) => (resolveAck = r));
  const conn = client.createConnection(
    { port, version, waitAck: true, maxConnectionAttempts: 1 },
    async (res) => {
      resolveAck(res.getMessage().toString());
    },
  );
  try {
    await conn.sendMessage(new Message({ text }));
    return await Promise.race([acked, new Promise<string>((r) => setTimeout(() => r("none"), timeoutMs))]);
  } finally {
    await conn.close().catch(() => undefined);
  }
}

function versionOf(text: string): string {
  try {
    return parse(text).version.split("^")[0] || "2.5";
  } catch {
    return "2.5";
  }
}

async function streamEnvelopes(nc: NatsConnection, stream: string): Promise<Envelope[]> {
  const jsm = await nc.jetstreamManager();
  const info = await jsm.streams.info(stream);
  const out: Envelope[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq });
    out.push(decodeEnvelope(m.data));
  }
  return out;
}

async function dropTopology(nc: NatsConnection, prefix: string, facility: string): Promise<void> {
  const jsm = await nc.jetstreamManager();
  for (const base of ["HIX_IN", "HIX_OUT", "HIX_DLQ"])
    await jsm.streams.delete(`${prefix.toUpperCase()}_${base}`).catch(() => undefined);
  await jsm.streams.delete(`KV_${prefix}_adapter_seen_${facility}`).catch(() => undefined);
}

/** MSA fields of an ACK, split on the ACK's own field separator (MSH-1; not always "|"). */
const msa = (ack: string): string[] =>
  (ack.split(/\r|\n/).find((l) => l.startsWith("MSA")) ?? "").split(ack.charAt(3) || "|");

describe("adapter MLLP listener with a foreign client", () => {
  it("acknowledges every shared HL7 v2 sample correctly and puts the accepted ones on HIX_IN", async () => {
    const url = await natsUrl();
    const prefix = uniqueName("mllp").toLowerCase();
    const nc = await connect({ servers: url });
    cleanups.push(async () => {
      await dropTopology(nc, prefix, "mllp-hospital");
      await nc.drain();
    });
    const adapter: AdapterProcess = await startAdapterProcess({
      profile: profile("mllp-hospital"),
      natsUrl: url,
      prefix,
    });
    cleanups.push(() => adapter.cleanup());

    const samples = sampleMessages();
    // Envelopes expected on HIX_IN: bodies of each accepted message, once per (sender, MSH-10) —
    // the corpus reuses control ids like "MSG00001", and a repeat from the same sender is a resend.
    const bodiesByKey = new Map<string, number>();
    const results: { name: string; expected: string; got: string; controlId: string; msa2: string }[] = [];
    for (const sample of samples) {
      let expected: string;
      let controlId = "";
      let accepted: { key: string; bodies: number } | undefined;
      try {
        const msg = parse(sample.text);
        controlId = msg.controlId;
        expected = controlId === "" ? "AR" : "AA";
        if (expected === "AA")
          accepted = {
            key: `${msg.get("MSH-3") ?? ""}^${msg.get("MSH-4") ?? ""}|${controlId}`,
            bodies: hl7v2ToCanonical(msg, { facilityId: "mllp-hospital" }).bodies.length,
          };
      } catch (err) {
        // Unreadable (parse) or unsupported (message type) → AR; content errors → AE.
        const e = err as Error & { code?: string };
        expected = e.name === "Hl7ParseError" || /unsupported/.test(e.code ?? "") ? "AR" : "AE";
      }
      let ack: string;
      try {
        ack = await sendWithForeignClient(adapter.mllpPort, sample.text, 10_000);
      } catch {
        ack = "client-refused"; // node-hl7-client could not build this text as a message
      }
      // Bodies are numbered per key: a later message with the key and more bodies adds the extra
      // ones (the corpus has different messages under one id; a real resend is the same message).
      if (ack !== "client-refused" && accepted !== undefined)
        bodiesByKey.set(accepted.key, Math.max(bodiesByKey.get(accepted.key) ?? 0, accepted.bodies));
      results.push({
        name: sample.name,
        expected,
        got: ack === "none" || ack === "client-refused" ? ack : (msa(ack)[1] ?? "?"),
        controlId,
        msa2: msa(ack)[2] ?? "",
      });
    }
    const sent = results.filter((r) => r.got !== "client-refused");
    // The foreign client must be able to send nearly all of the corpus, else this test proves little.
    expect(sent.length).toBeGreaterThanOrEqual(Math.floor(samples.length * 0.9));
    for (const r of sent) {
      expect({ name: r.name, code: r.got }).toEqual({ name: r.name, code: r.expected });
      if (r.controlId !== "")
        expect({ name: r.name, msa2: r.msa2 }).toEqual({ name: r.name, msa2: r.controlId });
    }
    const onStream = await streamEnvelopes(nc, `${prefix.toUpperCase()}_HIX_IN`);
    expect(onStream.length).toBe([...bodiesByKey.values()].reduce((a, b) => a + b, 0));
    expect(onStream.length).toBeGreaterThan(0);
    expect(onStream.every((e) => e.fromFacility === "mllp-hospital")).toBe(true);
    console.info(
      `adapter MLLP corpus: ${samples.length} messages, ${sent.length} sent by node-hl7-client, ${sent.filter((r) => r.got === "AA").length} AA, ${onStream.length} envelopes on HIX_IN`,
    );

    // A resend of an accepted message: acknowledged again, stored once.
    const first = samples.find((s, i) => results[i]?.got === "AA")!;
    expect(msa(await sendWithForeignClient(adapter.mllpPort, first.text, 10_000))[1]).toBe("AA");
    expect((await streamEnvelopes(nc, `${prefix.toUpperCase()}_HIX_IN`)).length).toBe(onStream.length);
  });
});

describe("adapter MLLP listener when storing fails", () => {
  let nats: TestNatsServer | undefined;
  afterEach(async () => {
    await nats?.kill().catch(() => undefined);
    nats = undefined;
  });

  it("sends no AA while NATS is down, and stores + acknowledges the resend once it is back", async () => {
    nats = await startNatsServer();
    const prefix = uniqueName("down").toLowerCase();
    const adapter = await startAdapterProcess({
      profile: profile("down-hospital"),
      natsUrl: nats.url,
      prefix,
      env: { HIX_ADAPTER_PUBLISH_TIMEOUT_MS: "1500" },
    });
    cleanups.push(() => adapter.cleanup());
    const sample = sampleMessages().find((s) => s.name.endsWith("ADT-A04-01.hl7"))!;

    await nats.kill();
    expect(await sendWithForeignClient(adapter.mllpPort, sample.text, 5000)).toBe("none");

    await nats.restart();
    await adapter.waitForLog("NATS status"); // reconnected
    let ack = "none";
    for (let i = 0; i < 10 && ack === "none"; i++)
      ack = await sendWithForeignClient(adapter.mllpPort, sample.text, 5000);
    expect(msa(ack)[1]).toBe("AA");
    const nc = await connect({ servers: nats.url });
    cleanups.push(() => nc.drain());
    const stored = await streamEnvelopes(nc, `${prefix.toUpperCase()}_HIX_IN`);
    expect(stored.length).toBe(hl7v2ToCanonical(sample.text, { facilityId: "down-hospital" }).bodies.length);
  });

  it("leaves the sender without an ACK when the adapter is killed between receipt and ACK", async () => {
    nats = await startNatsServer();
    const prefix = uniqueName("kill").toLowerCase();
    const adapter = await startAdapterProcess({
      profile: profile("kill-hospital"),
      natsUrl: nats.url,
      prefix,
      env: { HIX_ADAPTER_PUBLISH_TIMEOUT_MS: "30000" },
    });
    cleanups.push(() => adapter.cleanup());
    const sample = sampleMessages().find((s) => s.name.endsWith("ADT-A04-01.hl7"))!;
    // With the server gone the publish cannot complete: the message is received, not stored.
    await nats.kill();
    const pending = sendWithForeignClient(adapter.mllpPort, sample.text, 4000);
    await new Promise((r) => setTimeout(r, 1000));
    await adapter.kill("SIGKILL");
    expect(await pending).toBe("none");
    await nats.restart();
    const nc = await connect({ servers: nats.url });
    cleanups.push(() => nc.drain());
    const jsm = await nc.jetstreamManager();
    const info = await jsm.streams.info(`${prefix.toUpperCase()}_HIX_IN`);
    expect(info.state.messages).toBe(0);
  });
});
