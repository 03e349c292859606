/**
 * Acknowledged JetStream publishes for hot paths (the router's), with less client work per
 * publish than nats.js 2.29's `js.publish`.
 *
 * Same guarantee: a publish is a request whose reply is JetStream's PubAck, and its promise
 * resolves only once the server has stored the message (an error reply, no responders, or no
 * reply within the timeout rejects it with a retryable `PublishError`, as `publish` does). `Nats-Msg-Id` and `Nats-Expected-Stream` are set as there.
 *
 * Why not `js.publish`: per message the router makes two acknowledged publishes (the delivery
 * and the ROUTED receipt), and the router's CPU profile under `pnpm bench route` showed the
 * client's per-request overhead as the largest item (docs/benchmarks.md): each `js.publish`
 * builds a request object with two or three `Error`s (stack traces for async errors and for a
 * timeout and cancel that mostly never happen) and a timer, and nats.js writes its outbound
 * buffer to the socket once per microtask flush, i.e. several small writes per message. Here
 * one subscription receives every PubAck (`<inbox>.<token>`), one interval expires overdue
 * requests, and the publishes made during one event-loop turn leave in one socket write.
 */
import { MsgHdrsImpl, createInbox, type Msg, type NatsConnection, type Subscription } from "nats";
import type { JetStreamClient } from "nats";
import { PublishError, publish, type PublishOptions } from "./publish.js";

/** Publishes bytes to a JetStream subject; resolves once the server has stored them. */
export type Publish = (subject: string, data: Uint8Array, options: PublishOptions) => Promise<unknown>;

/** `publish` of @hix/bus on a JetStream client, for paths where a few publishes a second go out. */
export function jetStreamPublish(js: JetStreamClient): Publish {
  return (subject, data, options) => publish(js, subject, data, options);
}

export interface BatchedPublisher {
  readonly publish: Publish;
  /** Publishes waiting for their PubAck. */
  readonly pending: number;
  /** Stops receiving PubAcks; publishes still pending are rejected. Call after the work is done. */
  close(): Promise<void>;
}

interface Waiting {
  readonly subject: string;
  readonly expiresAt: number;
  readonly resolve: (ack: PubAck) => void;
  readonly reject: (err: Error) => void;
}

interface Queued {
  readonly token: string;
  readonly subject: string;
  readonly data: Uint8Array;
  readonly options: PublishOptions;
}

/** The PubAck JetStream replies with (or its error form). */
export interface PubAck {
  readonly stream: string;
  readonly seq: number;
  readonly duplicate: boolean;
}

const decoder = new TextDecoder();

/** A header name NATS accepts: printable ASCII without ':' (nor space). */
const HEADER_NAME = /^[!-9;-~]+$/;
const LINE_BREAK = /[\r\n]/;

/**
 * A header block written once, as the bytes nats.js puts on the wire (`NATS/1.0`, then one
 * `Name: value` line each, then an empty line). nats.js's own `headers().set` copies the key
 * list, canonicalises and checks each name and value, and `encode()` builds the block again as
 * a string: about 1.5 KB of garbage a header, two or three headers a publish, two publishes a
 * routed message (docs/benchmarks.md). The client only calls `encode()` on publish.
 */
class EncodedHeaders extends MsgHdrsImpl {
  constructor(private readonly block: Uint8Array) {
    super();
  }

  override encode(): Uint8Array {
    return this.block;
  }
}

/** `name: value` and a line break; the name is checked unless it is one of ours. */
function headerLine(name: string, value: string, ours = false): string {
  if (!ours && !HEADER_NAME.test(name)) throw new Error(`invalid header name ${JSON.stringify(name)}`);
  if (LINE_BREAK.test(value)) throw new Error(`header ${name}: a value may not hold a line break`);
  return `${name}: ${value.trim()}\r\n`;
}

/** The header block of a publish: its message id, expected stream and extra headers. */
function encodeHeaders(options: PublishOptions): EncodedHeaders {
  let block = `NATS/1.0\r\n${headerLine("Nats-Msg-Id", options.msgId, true)}`;
  if (options.expectStream !== undefined)
    block += headerLine("Nats-Expected-Stream", options.expectStream, true);
  if (options.headers !== undefined) {
    for (const name in options.headers) block += headerLine(name, options.headers[name]!);
  }
  // Buffer.from takes small buffers from Node's pool: a third of TextEncoder's time, and no
  // ArrayBuffer of its own for the GC to track.
  return new EncodedHeaders(Buffer.from(`${block}\r\n`, "utf8"));
}

export function createBatchedPublisher(
  nc: NatsConnection,
  options: { timeoutMs?: number } = {},
): BatchedPublisher {
  const timeoutMs = options.timeoutMs ?? 5000;
  const inbox = createInbox();
  const prefixLength = inbox.length + 1;
  const waiting = new Map<string, Waiting>(); // insertion order = expiry order
  let queue: Queued[] = [];
  let next = 0;
  let flushScheduled = false;
  let expiryTimer: NodeJS.Timeout | undefined;
  let closed = false;

  const fail = (subject: string, reason: string, cause?: unknown): PublishError =>
    new PublishError(
      "bus.publish_failed",
      `publish to ${subject} was not acknowledged by JetStream: ${reason}`,
      {
        retryable: true,
        ...(cause === undefined ? {} : { cause }),
      },
    );

  const onReply = (msg: Msg): void => {
    const token = msg.subject.slice(prefixLength);
    const w = waiting.get(token);
    if (w === undefined) return; // expired already
    waiting.delete(token);
    if (msg.data.length === 0 && msg.headers?.code === 503) {
      w.reject(fail(w.subject, "no stream listens on the subject (no responders)"));
      return;
    }
    let reply: {
      stream?: string;
      seq?: number;
      duplicate?: boolean;
      error?: { code?: number; description?: string };
    };
    try {
      reply = JSON.parse(decoder.decode(msg.data)) as typeof reply;
    } catch (err) {
      w.reject(fail(w.subject, "the reply is not a PubAck", err));
      return;
    }
    if (reply.error !== undefined) {
      w.reject(fail(w.subject, `${reply.error.code ?? ""} ${reply.error.description ?? ""}`.trim()));
    } else if (typeof reply.stream !== "string" || reply.stream === "" || typeof reply.seq !== "number") {
      w.reject(fail(w.subject, "the reply is not a PubAck"));
    } else {
      w.resolve({ stream: reply.stream, seq: reply.seq, duplicate: reply.duplicate === true });
    }
  };

  const sub: Subscription = nc.subscribe(`${inbox}.*`, { callback: (_err, msg) => onReply(msg) });

  const expire = (): void => {
    const now = Date.now();
    for (const [token, w] of waiting) {
      if (w.expiresAt > now) break;
      waiting.delete(token);
      w.reject(fail(w.subject, `no PubAck within ${timeoutMs} ms`));
    }
    if (waiting.size === 0 && expiryTimer !== undefined) {
      clearInterval(expiryTimer);
      expiryTimer = undefined;
    }
  };

  // Everything queued in this event-loop turn goes into nats.js's outbound buffer in one
  // synchronous run, so the client writes it to the socket once.
  const flush = (): void => {
    flushScheduled = false;
    const batch = queue;
    queue = [];
    for (const q of batch) {
      const w = waiting.get(q.token);
      if (w === undefined) continue;
      try {
        nc.publish(q.subject, q.data, { reply: `${inbox}.${q.token}`, headers: encodeHeaders(q.options) });
      } catch (err) {
        waiting.delete(q.token);
        w.reject(fail(q.subject, "the client refused the publish", err));
      }
    }
  };

  void nc.closed().then(() => {
    closed = true;
    for (const [token, w] of waiting) {
      waiting.delete(token);
      w.reject(fail(w.subject, "the NATS connection closed"));
    }
  });

  return {
    publish(subject, data, publishOptions) {
      if (publishOptions.msgId === "")
        return Promise.reject(
          new PublishError("bus.missing_msg_id", `publish to ${subject} needs a message id`),
        );
      if (closed) return Promise.reject(fail(subject, "the publisher is closed"));
      const token = (next++).toString(36);
      return new Promise<PubAck>((resolve, reject) => {
        waiting.set(token, { subject, expiresAt: Date.now() + timeoutMs, resolve, reject });
        queue.push({ token, subject, data, options: publishOptions });
        if (!flushScheduled) {
          flushScheduled = true;
          setImmediate(flush);
        }
        if (expiryTimer === undefined) {
          expiryTimer = setInterval(expire, Math.min(250, timeoutMs));
          expiryTimer.unref();
        }
      });
    },
    get pending() {
      return waiting.size;
    },
    async close() {
      closed = true;
      if (expiryTimer !== undefined) clearInterval(expiryTimer);
      expiryTimer = undefined;
      if (!sub.isClosed()) sub.unsubscribe();
      for (const [token, w] of waiting) {
        waiting.delete(token);
        w.reject(fail(w.subject, "the publisher is closed"));
      }
    },
  };
}
