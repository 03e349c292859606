import { describe, expect, it } from "vitest";
import { connectMllp, frame, MllpDecoder, startMllpServer } from "./mllp.js";

describe("MLLP framing", () => {
  it("frames a message as <VT>message<FS><CR>", () => {
    expect([...frame("MSH|x")]).toEqual([0x0b, ...Buffer.from("MSH|x"), 0x1c, 0x0d]);
  });

  it("decodes frames split across chunks, several per chunk, ignoring noise between frames", () => {
    const d = new MllpDecoder();
    const bytes = Buffer.concat([
      Buffer.from("\n"),
      frame("A|1"),
      frame("B|ü"),
      Buffer.from("junk"),
      frame("C"),
    ]);
    const out: string[] = [];
    for (let i = 0; i < bytes.length; i += 3) out.push(...d.push(bytes.subarray(i, i + 3)));
    expect(out).toEqual(["A|1", "B|ü", "C"]);
  });

  it("accepts a frame whose trailing CR is missing", () => {
    const d = new MllpDecoder();
    expect(d.push(Buffer.from([0x0b, 0x41, 0x1c, 0x0b, 0x42, 0x1c, 0x0d]))).toEqual(["A", "B"]);
  });

  it("refuses a frame over the size limit", () => {
    const d = new MllpDecoder(10);
    expect(() => d.push(Buffer.concat([Buffer.from([0x0b]), Buffer.alloc(11, 0x41)]))).toThrow(
      /exceeds 10 bytes/,
    );
  });
});

describe("MLLP server and client", () => {
  it("answers each message once, in order, on one connection", async () => {
    const seen: string[] = [];
    const server = await startMllpServer({
      host: "127.0.0.1",
      port: 0,
      onMessage: async (m) => {
        seen.push(m);
        await new Promise((r) => setTimeout(r, m === "one" ? 30 : 0)); // the first is slower
        return `ack:${m}`;
      },
    });
    const client = await connectMllp({ host: "127.0.0.1", port: server.port });
    const acks = await Promise.all([client.send("one"), client.send("two"), client.send("three")]);
    expect(acks).toEqual(["ack:one", "ack:two", "ack:three"]);
    expect(seen).toEqual(["one", "two", "three"]);
    await client.close();
    await server.close();
  });

  it("sends no ACK and closes the connection when the handler fails", async () => {
    const server = await startMllpServer({
      host: "127.0.0.1",
      port: 0,
      onMessage: () => Promise.reject(new Error("not stored")),
    });
    const client = await connectMllp({ host: "127.0.0.1", port: server.port, ackTimeoutMs: 2000 });
    await expect(client.send("MSH|x")).rejects.toMatchObject({ code: "mllp.connection_lost" });
    await client.close();
    await server.close();
  });
});
