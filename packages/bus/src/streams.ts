import { RetentionPolicy, StorageType, nanos, type JetStreamManager, type StreamConfig } from "nats";
import { HixError } from "@hix/runtime";
import type { StreamSpec, Topology } from "./topology.js";

export interface StreamOptions {
  readonly storage?: "file" | "memory";
  /** 1 for a single server; 3 on a hub cluster. */
  readonly replicas?: number;
  /** How long messages are kept; 0 = forever. */
  readonly maxAgeMs?: number;
  /** Stream size cap in bytes; -1 = unlimited. Oldest messages go first. */
  readonly maxBytes?: number;
  /** Largest message accepted; bigger payloads travel through the object store. */
  readonly maxMsgSize?: number;
  /** Window in which a repeated Nats-Msg-Id is dropped as a duplicate. */
  readonly duplicateWindowMs?: number;
}

const DAY = 86_400_000;

/** Defaults per stream: exchange traffic kept a week, dead letters a month. */
export const DEFAULT_STREAM_OPTIONS: Readonly<Record<"in" | "out" | "dlq", Required<StreamOptions>>> = {
  in: {
    storage: "file",
    replicas: 1,
    maxAgeMs: 7 * DAY,
    maxBytes: -1,
    maxMsgSize: 1024 * 1024,
    duplicateWindowMs: 120_000,
  },
  out: {
    storage: "file",
    replicas: 1,
    maxAgeMs: 7 * DAY,
    maxBytes: -1,
    maxMsgSize: 1024 * 1024,
    duplicateWindowMs: 120_000,
  },
  dlq: {
    storage: "file",
    replicas: 1,
    maxAgeMs: 30 * DAY,
    maxBytes: -1,
    maxMsgSize: 2 * 1024 * 1024,
    duplicateWindowMs: 120_000,
  },
};

export class StreamConfigError extends HixError {
  override name = "StreamConfigError";
}

/**
 * Creates the exchange's streams, or brings existing ones to the wanted configuration.
 * Idempotent: safe to call from every replica at every start. Settings JetStream cannot
 * change in place (storage type) are refused with an error naming the stream.
 */
export async function ensureStreams(
  jsm: JetStreamManager,
  topology: Topology,
  options: Partial<Record<"in" | "out" | "dlq", StreamOptions>> = {},
): Promise<void> {
  for (const key of ["in", "out", "dlq"] as const) {
    await ensureStream(jsm, topology.streams[key], { ...DEFAULT_STREAM_OPTIONS[key], ...options[key] });
  }
}

async function ensureStream(
  jsm: JetStreamManager,
  spec: StreamSpec,
  options: Required<StreamOptions>,
): Promise<void> {
  const wanted: Partial<StreamConfig> = {
    name: spec.name,
    description: spec.description,
    subjects: [...spec.subjects],
    retention: RetentionPolicy.Limits,
    storage: options.storage === "memory" ? StorageType.Memory : StorageType.File,
    num_replicas: options.replicas,
    max_age: nanos(options.maxAgeMs),
    max_bytes: options.maxBytes,
    max_msg_size: options.maxMsgSize,
    duplicate_window: nanos(options.duplicateWindowMs),
  };
  const existing = await jsm.streams.info(spec.name).catch((err: unknown) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });
  if (existing === undefined) {
    await jsm.streams.add(wanted);
    return;
  }
  if (existing.config.storage !== wanted.storage) {
    throw new StreamConfigError(
      "bus.stream_storage_mismatch",
      `stream ${spec.name} uses ${existing.config.storage} storage but ${options.storage} is configured; ` +
        "storage cannot change in place — migrate the stream or change the configuration",
    );
  }
  await jsm.streams.update(spec.name, { ...existing.config, ...wanted });
}

function isNotFound(err: unknown): boolean {
  return err instanceof Error && /stream not found/i.test(err.message);
}
