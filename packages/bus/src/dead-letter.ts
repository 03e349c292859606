import type { JetStreamClient, JetStreamManager } from "nats";
import { HixError } from "@hix/runtime";
import { publish } from "./publish.js";
import type { Topology } from "./topology.js";

/**
 * JetStream does not dead-letter for us: a message that is `term`ed or runs out of
 * deliveries is simply gone from the consumer. So before a consumer gives up on a
 * message, it writes the original bytes to HIX_DLQ with the reason as data (headers
 * below), and only once that write is acknowledged does it `term` the original.
 */
export const DLQ_HEADERS = {
  subject: "Hix-Dlq-Subject",
  stream: "Hix-Dlq-Stream",
  sequence: "Hix-Dlq-Sequence",
  consumer: "Hix-Dlq-Consumer",
  deliveries: "Hix-Dlq-Deliveries",
  code: "Hix-Dlq-Code",
  reason: "Hix-Dlq-Reason",
  failedAt: "Hix-Dlq-Failed-At",
  msgId: "Hix-Dlq-Msg-Id",
} as const;

/** Header on a replayed message naming the dead-letter sequence it came from. */
export const REPLAY_HEADER = "Hix-Replay-Of";

export interface DeadLetter {
  /** Sequence in the dead-letter stream. */
  readonly dlqSequence: number;
  readonly originalSubject: string;
  readonly originalStream: string;
  readonly originalSequence: number;
  readonly consumer: string;
  readonly deliveries: number;
  readonly code: string;
  readonly reason: string;
  readonly failedAt: string;
  /** The original Nats-Msg-Id, if it had one. */
  readonly msgId: string | undefined;
  readonly data: Uint8Array;
}

export interface DeadLetterInput {
  readonly originalSubject: string;
  readonly originalStream: string;
  readonly originalSequence: number;
  readonly consumer: string;
  readonly deliveries: number;
  readonly code: string;
  readonly reason: string;
  readonly msgId: string | undefined;
  readonly data: Uint8Array;
}

/**
 * Writes one dead letter. Its own message id is derived from the original stream and
 * sequence, so a consumer that crashes between this write and its `term` and then
 * dead-letters the message again stores it once.
 */
export async function writeDeadLetter(
  js: JetStreamClient,
  topology: Topology,
  input: DeadLetterInput,
): Promise<void> {
  const headers: Record<string, string> = {
    [DLQ_HEADERS.subject]: input.originalSubject,
    [DLQ_HEADERS.stream]: input.originalStream,
    [DLQ_HEADERS.sequence]: String(input.originalSequence),
    [DLQ_HEADERS.consumer]: input.consumer,
    [DLQ_HEADERS.deliveries]: String(input.deliveries),
    [DLQ_HEADERS.code]: input.code,
    [DLQ_HEADERS.reason]: oneLine(input.reason),
    [DLQ_HEADERS.failedAt]: new Date().toISOString(),
  };
  if (input.msgId !== undefined) headers[DLQ_HEADERS.msgId] = input.msgId;
  await publish(js, topology.dlqSubject(input.originalStream, input.consumer), input.data, {
    msgId: `dlq.${input.originalStream}.${input.originalSequence}.${input.consumer}`,
    headers,
    expectStream: topology.streams.dlq.name,
  });
}

/** Reads dead letters in order, starting at `fromSequence`, at most `limit` of them. */
export async function listDeadLetters(
  jsm: JetStreamManager,
  topology: Topology,
  options: { fromSequence?: number; limit?: number } = {},
): Promise<DeadLetter[]> {
  const stream = topology.streams.dlq.name;
  const info = await jsm.streams.info(stream);
  const out: DeadLetter[] = [];
  const limit = options.limit ?? 100;
  for (
    let seq = Math.max(options.fromSequence ?? 1, info.state.first_seq);
    seq <= info.state.last_seq;
    seq++
  ) {
    if (out.length >= limit) break;
    const letter = await readDeadLetter(jsm, topology, seq);
    if (letter !== undefined) out.push(letter);
  }
  return out;
}

/** One dead letter by its sequence; undefined when it was deleted (replayed) or aged out. */
export async function readDeadLetter(
  jsm: JetStreamManager,
  topology: Topology,
  dlqSequence: number,
): Promise<DeadLetter | undefined> {
  const stored = await jsm.streams
    .getMessage(topology.streams.dlq.name, { seq: dlqSequence })
    .catch((err: unknown) => {
      if (err instanceof Error && /no message found|not found/i.test(err.message)) return undefined;
      throw err;
    });
  if (stored === undefined) return undefined;
  const h = stored.header;
  return {
    dlqSequence,
    originalSubject: h.get(DLQ_HEADERS.subject),
    originalStream: h.get(DLQ_HEADERS.stream),
    originalSequence: Number(h.get(DLQ_HEADERS.sequence)),
    consumer: h.get(DLQ_HEADERS.consumer),
    deliveries: Number(h.get(DLQ_HEADERS.deliveries)),
    code: h.get(DLQ_HEADERS.code),
    reason: h.get(DLQ_HEADERS.reason),
    failedAt: h.get(DLQ_HEADERS.failedAt),
    msgId: h.get(DLQ_HEADERS.msgId) || undefined,
    data: stored.data,
  };
}

export class ReplayError extends HixError {
  override name = "ReplayError";
}

/**
 * Publishes a dead letter back to its original subject, then removes it from the DLQ.
 * The replay gets a fresh Nats-Msg-Id (`<original>.replay.<dlqSequence>`) because the
 * original id may still sit in the duplicate window; replaying the same dead letter
 * twice stores it once. If it fails again it lands in the DLQ anew.
 */
export async function replayDeadLetter(
  js: JetStreamClient,
  jsm: JetStreamManager,
  topology: Topology,
  dlqSequence: number,
): Promise<{ subject: string; sequence: number }> {
  const letter = await readDeadLetter(jsm, topology, dlqSequence);
  if (letter === undefined) {
    throw new ReplayError(
      "bus.dlq_not_found",
      `no dead letter at sequence ${dlqSequence} in ${topology.streams.dlq.name}`,
    );
  }
  const base = letter.msgId ?? `${letter.originalStream}.${letter.originalSequence}`;
  const ack = await publish(js, letter.originalSubject, letter.data, {
    msgId: `${base}.replay.${dlqSequence}`,
    headers: { [REPLAY_HEADER]: String(dlqSequence) },
  });
  await jsm.streams.deleteMessage(topology.streams.dlq.name, dlqSequence, false);
  return { subject: letter.originalSubject, sequence: ack.seq };
}

function oneLine(text: string): string {
  // Header values cannot carry line breaks.
  return text.replace(/[\r\n]+/g, " ").slice(0, 1000);
}
