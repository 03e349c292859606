/**
 * MLLP — the Minimal Lower Layer Protocol that carries HL7 v2 over TCP (HL7 v2.5.1
 * Implementation Guide: Transport Specification MLLP, Release 2). Each message is framed as
 *
 *   <VT> message <FS><CR>        VT = 0x0B, FS = 0x1C, CR = 0x0D
 *
 * and the receiver answers each message with exactly one acknowledgment, framed the same way.
 * Bytes outside a frame (line noise, a client's keep-alive newline) are ignored.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { HixError } from "@hix/runtime";

export const VT = 0x0b;
export const FS = 0x1c;
export const CR = 0x0d;

/** Wraps a message in an MLLP frame. */
export function frame(message: string): Buffer {
  const body = Buffer.from(message, "utf8");
  const out = Buffer.allocUnsafe(body.length + 3);
  out[0] = VT;
  body.copy(out, 1);
  out[body.length + 1] = FS;
  out[body.length + 2] = CR;
  return out;
}

export class MllpError extends HixError {
  override name = "MllpError";
}

/**
 * Splits a byte stream into MLLP frames. Feed it chunks as they arrive; it returns every
 * message completed so far. A frame larger than `maxBytes` is refused (the connection is
 * then closed by the caller): a sender that never sends FS must not exhaust memory.
 */
export class MllpDecoder {
  private chunks: Buffer[] = [];
  private size = 0;
  private inFrame = false;

  constructor(private readonly maxBytes = 16 * 1024 * 1024) {}

  push(chunk: Buffer): string[] {
    const messages: string[] = [];
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (!this.inFrame) {
        if (byte === VT) {
          this.inFrame = true;
          start = i + 1;
        }
        continue;
      }
      // FS ends the frame; the CR after it is optional in practice (some senders omit it).
      if (byte === FS) {
        this.append(chunk.subarray(start, i));
        messages.push(Buffer.concat(this.chunks, this.size).toString("utf8"));
        this.chunks = [];
        this.size = 0;
        this.inFrame = false;
        if (chunk[i + 1] === CR) i++;
      } else if (byte === VT) {
        // A new start block inside a frame: the sender gave up on the previous frame.
        this.chunks = [];
        this.size = 0;
        start = i + 1;
      }
    }
    if (this.inFrame) this.append(chunk.subarray(start));
    return messages;
  }

  private append(part: Buffer): void {
    if (part.length === 0) return;
    this.size += part.length;
    if (this.size > this.maxBytes) {
      throw new MllpError("mllp.frame_too_large", `MLLP frame exceeds ${this.maxBytes} bytes`);
    }
    this.chunks.push(Buffer.from(part));
  }
}

export interface MllpConnectionInfo {
  /** `address:port` of the peer. */
  readonly remote: string;
}

export interface MllpServerOptions {
  readonly host?: string;
  /** 0 picks a free port (tests); read it back from `port`. */
  readonly port: number;
  /**
   * Handles one message and returns the acknowledgment to send, or `undefined` to send
   * nothing (the peer will time out and resend). Messages of one connection are handled
   * one at a time, in order, so acknowledgments go back in the order messages came in.
   */
  readonly onMessage: (message: string, info: MllpConnectionInfo) => Promise<string | undefined>;
  /** Called when a connection fails (framing error, socket error); never with payload. */
  readonly onError?: (err: Error, info: MllpConnectionInfo) => void;
  readonly maxFrameBytes?: number;
}

export interface MllpServer {
  readonly port: number;
  /** Stops accepting, waits for in-flight messages to be answered, then closes connections. */
  close(): Promise<void>;
}

export async function startMllpServer(options: MllpServerOptions): Promise<MllpServer> {
  const sockets = new Set<Socket>();
  const inFlight = new Set<Promise<void>>();
  let closing = false;

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    const info: MllpConnectionInfo = { remote: `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? 0}` };
    const decoder = new MllpDecoder(options.maxFrameBytes);
    // One queue per connection: each message is answered before the next is handled.
    let queue: Promise<void> = Promise.resolve();
    socket.on("data", (chunk: Buffer) => {
      let messages: string[];
      try {
        messages = decoder.push(chunk);
      } catch (err) {
        options.onError?.(err as Error, info);
        socket.destroy();
        return;
      }
      for (const message of messages) {
        const task = queue.then(async () => {
          if (socket.destroyed) return;
          const reply = await options.onMessage(message, info);
          if (reply !== undefined && !socket.destroyed) socket.write(frame(reply));
        });
        queue = task.catch((err: unknown) => {
          // No acknowledgment for a message we could not handle: the sender resends it.
          options.onError?.(err instanceof Error ? err : new Error(String(err)), info);
          socket.destroy();
        });
        const tracked = queue.finally(() => inFlight.delete(tracked));
        inFlight.add(tracked);
      }
    });
    socket.on("error", (err) => options.onError?.(err, info));
    socket.on("close", () => sockets.delete(socket));
    if (closing) socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "0.0.0.0", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : options.port;

  return {
    port,
    async close() {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.allSettled([...inFlight]);
      for (const socket of sockets) socket.end();
      // Give peers a moment to read their last acknowledgment before the sockets go.
      const deadline = setTimeout(() => {
        for (const socket of sockets) socket.destroy();
      }, 1000);
      await closed;
      clearTimeout(deadline);
    },
  };
}

export interface MllpClientOptions {
  readonly host: string;
  readonly port: number;
  /** How long to wait for each acknowledgment. */
  readonly ackTimeoutMs?: number;
}

/** A connection to an MLLP receiver that sends one message at a time and waits for its ACK. */
export interface MllpClient {
  send(message: string): Promise<string>;
  close(): Promise<void>;
}

export async function connectMllp(options: MllpClientOptions): Promise<MllpClient> {
  const socket = createConnection({ host: options.host, port: options.port });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", (err) =>
      reject(
        new MllpError("mllp.unavailable", `cannot connect to MLLP ${options.host}:${options.port}`, {
          retryable: true,
          cause: err,
        }),
      ),
    );
  });
  const decoder = new MllpDecoder();
  const waiting: { resolve: (ack: string) => void; reject: (err: Error) => void }[] = [];
  const failAll = (err: Error): void => {
    for (const w of waiting.splice(0)) w.reject(err);
  };
  socket.on("data", (chunk: Buffer) => {
    for (const ack of decoder.push(chunk)) waiting.shift()?.resolve(ack);
  });
  socket.on("error", (err) =>
    failAll(new MllpError("mllp.connection_lost", "MLLP connection failed", { retryable: true, cause: err })),
  );
  socket.on("close", () =>
    failAll(
      new MllpError("mllp.connection_lost", "MLLP connection closed before the ACK", { retryable: true }),
    ),
  );
  let chain: Promise<unknown> = Promise.resolve();
  return {
    send(message) {
      const result = chain.then(
        () =>
          new Promise<string>((resolve, reject) => {
            const timer = setTimeout(() => {
              const i = waiting.findIndex((w) => w.resolve === done);
              if (i >= 0) waiting.splice(i, 1);
              reject(
                new MllpError("mllp.ack_timeout", `no ACK within ${options.ackTimeoutMs ?? 10_000} ms`, {
                  retryable: true,
                }),
              );
            }, options.ackTimeoutMs ?? 10_000);
            const done = (ack: string): void => {
              clearTimeout(timer);
              resolve(ack);
            };
            waiting.push({
              resolve: done,
              reject: (err) => {
                clearTimeout(timer);
                reject(err);
              },
            });
            socket.write(frame(message));
          }),
      );
      chain = result.catch(() => undefined);
      return result;
    },
    async close() {
      await new Promise<void>((resolve) => {
        if (socket.destroyed) resolve();
        else socket.end(() => resolve());
      });
      socket.destroy();
    },
  };
}
