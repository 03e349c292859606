import { createHash } from "node:crypto";
import type { JetStreamClient, KV } from "nats";

/**
 * Remembers which message ids a consumer has already turned into a durable effect, for
 * longer than the stream's duplicate window (a redelivery days later, a DLQ replay, a
 * producer retrying after its own crash). The consumer loop checks it before calling the
 * handler and records the id after the handler acked, before acking to JetStream.
 *
 * Where the effect is a PostgreSQL write, record the id in the same transaction instead
 * (a processed-messages row keyed by consumer + message id, inserted ON CONFLICT DO NOTHING;
 * see consumer-crash.int.test.ts) — that makes "effect done" and "id recorded" one fact.
 */
export interface IdempotencyStore {
  has(messageId: string): Promise<boolean>;
  add(messageId: string): Promise<void>;
}

const KV_KEY = /^[-/_=.a-zA-Z0-9]+$/;

/** A store on a JetStream key-value bucket; entries expire after `ttlMs`. */
export async function kvIdempotencyStore(
  js: JetStreamClient,
  options: { bucket: string; ttlMs: number; replicas?: number },
): Promise<IdempotencyStore> {
  const kv: KV = await js.views.kv(options.bucket, {
    ttl: options.ttlMs,
    history: 1,
    ...(options.replicas === undefined ? {} : { replicas: options.replicas }),
  });
  const key = (id: string): string =>
    KV_KEY.test(id) && !id.startsWith(".") && !id.endsWith(".")
      ? id
      : createHash("sha256").update(id).digest("hex");
  return {
    async has(messageId) {
      const entry = await kv.get(key(messageId));
      return entry !== null && entry.operation === "PUT";
    },
    async add(messageId) {
      await kv.put(key(messageId), new Uint8Array(0));
    },
  };
}

/** An in-process store, for tests of handlers and for single-shot tools. */
export function memoryIdempotencyStore(): IdempotencyStore {
  const seen = new Set<string>();
  return {
    has: async (id) => seen.has(id),
    add: async (id) => void seen.add(id),
  };
}
