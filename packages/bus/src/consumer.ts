import {
  AckPolicy,
  DeliverPolicy,
  nanos,
  type ConsumerConfig,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type MsgHdrs,
} from "nats";
import type { Logger } from "@hix/runtime";
import { writeDeadLetter } from "./dead-letter.js";
import type { IdempotencyStore } from "./idempotency.js";
import { inFlightWindow } from "./in-flight-window.js";
import { exponentialBackoff, outcomeFromError, type Outcome } from "./outcome.js";
import type { Topology } from "./topology.js";

/** One message as a handler sees it. */
export interface Delivery {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: MsgHdrs | undefined;
  /** The message's stable id (Nats-Msg-Id), or `<stream>.<sequence>` if it has none. */
  readonly messageId: string;
  /** 1 on first delivery. */
  readonly deliveryCount: number;
  readonly streamSequence: number;
}

export type Handler = (delivery: Delivery) => Promise<Outcome>;

export interface ConsumerOptions {
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly topology: Topology;
  readonly stream: string;
  /** Durable consumer name; replicas that share it share the work. */
  readonly durable: string;
  readonly filterSubject?: string;
  readonly handler: Handler;
  readonly logger: Logger;
  /** Messages handled at once by this process. */
  readonly concurrency?: number;
  /** Deliveries before a message that keeps failing is dead-lettered. */
  readonly maxDeliver?: number;
  /** How long the server waits for an ack before redelivering; long handlers are kept alive. */
  readonly ackWaitMs?: number;
  /** Delay before redelivery after a `retry` outcome, by delivery count. */
  readonly backoff?: (delivery: number) => number;
  /** Checked before the handler and written after it acked (see idempotency.ts). */
  readonly idempotency?: IdempotencyStore;
}

export interface ConsumerStats {
  acked: number;
  retried: number;
  deadLettered: number;
  duplicates: number;
}

export interface RunningConsumer {
  readonly stats: Readonly<ConsumerStats>;
  /** Stops pulling, finishes in-flight messages, then resolves. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Creates (or updates) the durable pull consumer. Idempotent; every replica calls it.
 * The server's max_deliver is one above ours: that extra delivery only happens when every
 * earlier attempt ended without an outcome (the process died, or the ack timed out), and
 * it is then dead-lettered instead of being silently dropped by JetStream.
 */
export async function ensureConsumer(
  jsm: JetStreamManager,
  options: Pick<
    ConsumerOptions,
    "stream" | "durable" | "filterSubject" | "maxDeliver" | "ackWaitMs" | "concurrency"
  >,
): Promise<void> {
  const config: Partial<ConsumerConfig> = {
    durable_name: options.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(options.ackWaitMs ?? DEFAULTS.ackWaitMs),
    max_deliver: (options.maxDeliver ?? DEFAULTS.maxDeliver) + 1,
    max_ack_pending: Math.max(1000, (options.concurrency ?? DEFAULTS.concurrency) * 8),
    ...(options.filterSubject === undefined ? {} : { filter_subject: options.filterSubject }),
  };
  const existing = await jsm.consumers.info(options.stream, options.durable).catch(() => undefined);
  if (existing === undefined) {
    await jsm.consumers.add(options.stream, config);
  } else {
    const { durable_name: _name, deliver_policy: _policy, ...changeable } = config;
    await jsm.consumers.update(options.stream, options.durable, changeable);
  }
}

const DEFAULTS = { concurrency: 16, maxDeliver: 5, ackWaitMs: 30_000 } as const;

/**
 * Runs a handler over a durable pull consumer with bounded concurrency. Every message
 * ends in exactly one of: ack, nak with backoff (transient), or dead letter + term
 * (permanent, or transient with deliveries exhausted). A handler that throws is mapped
 * by `outcomeFromError`; nothing is dropped without a dead letter.
 */
export async function startConsumer(options: ConsumerOptions): Promise<RunningConsumer> {
  const concurrency = options.concurrency ?? DEFAULTS.concurrency;
  const maxDeliver = options.maxDeliver ?? DEFAULTS.maxDeliver;
  const ackWaitMs = options.ackWaitMs ?? DEFAULTS.ackWaitMs;
  const backoff = options.backoff ?? exponentialBackoff();
  const log = options.logger.child({
    component: "consumer",
    stream: options.stream,
    consumer: options.durable,
  });
  const stats: ConsumerStats = { acked: 0, retried: 0, deadLettered: 0, duplicates: 0 };

  await ensureConsumer(options.jsm, options);
  const consumer = await options.js.consumers.get(options.stream, options.durable);
  const messages: ConsumerMessages = await consumer.consume({ max_messages: concurrency * 2 });

  const inFlight = inFlightWindow(concurrency);
  // Keeps long-running handlers' messages from being redelivered to another replica: every
  // message in a handler is marked as being worked on at least every third of ack_wait. One
  // timer for all of them, rather than a timer set and cleared for each message.
  const working = new Set<JsMsg>();
  const keepAlive = setInterval(
    () => {
      for (const m of working) {
        try {
          m.working();
        } catch {
          // The connection is closed: the server redelivers the message after ack_wait anyway.
        }
      }
    },
    Math.max(1000, Math.floor(ackWaitMs / 3)),
  );
  keepAlive.unref();
  let stopping = false;

  const deadLetter = async (m: JsMsg, code: string, reason: string): Promise<void> => {
    try {
      await writeDeadLetter(options.js, options.topology, {
        originalSubject: m.subject,
        originalStream: options.stream,
        originalSequence: m.info.streamSequence,
        consumer: options.durable,
        deliveries: m.info.redeliveryCount,
        code,
        reason,
        msgId: m.headers?.get("Nats-Msg-Id") || undefined,
        data: m.data,
      });
    } catch (err) {
      // Could not store the dead letter: keep the message rather than lose it.
      log.error(
        { err, seq: m.info.streamSequence, code },
        "dead letter write failed, message kept for retry",
      );
      m.nak(backoff(m.info.redeliveryCount));
      return;
    }
    m.term();
    stats.deadLettered++;
    log.warn(
      { seq: m.info.streamSequence, deliveries: m.info.redeliveryCount, code },
      "message dead-lettered",
    );
  };

  const settle = async (m: JsMsg, delivery: Delivery, outcome: Outcome): Promise<void> => {
    switch (outcome.kind) {
      case "ack":
        if (options.idempotency !== undefined) await options.idempotency.add(delivery.messageId);
        m.ack();
        stats.acked++;
        return;
      case "retry":
        if (delivery.deliveryCount >= maxDeliver) {
          await deadLetter(
            m,
            outcome.code,
            `${outcome.reason} (gave up after ${delivery.deliveryCount} deliveries)`,
          );
          return;
        }
        m.nak(outcome.delayMs ?? backoff(delivery.deliveryCount));
        stats.retried++;
        log.info(
          { seq: delivery.streamSequence, deliveries: delivery.deliveryCount, code: outcome.code },
          "retrying",
        );
        return;
      case "reject":
        await deadLetter(m, outcome.code, outcome.reason);
        return;
    }
  };

  const handle = async (m: JsMsg): Promise<void> => {
    const delivery: Delivery = {
      subject: m.subject,
      data: m.data,
      headers: m.headers,
      messageId: m.headers?.get("Nats-Msg-Id") || `${options.stream}.${m.info.streamSequence}`,
      deliveryCount: m.info.redeliveryCount,
      streamSequence: m.info.streamSequence,
    };
    if (delivery.deliveryCount > maxDeliver) {
      await deadLetter(
        m,
        "bus.deliveries_exhausted",
        `no outcome after ${maxDeliver} deliveries (crash or ack timeout)`,
      );
      return;
    }
    if (options.idempotency !== undefined && (await options.idempotency.has(delivery.messageId))) {
      m.ack();
      stats.duplicates++;
      log.debug({ seq: delivery.streamSequence, messageId: delivery.messageId }, "duplicate skipped");
      return;
    }
    working.add(m);
    let outcome: Outcome;
    try {
      outcome = await options.handler(delivery);
    } catch (err) {
      outcome = outcomeFromError(err);
      if (outcome.kind === "retry") log.warn({ err, seq: delivery.streamSequence }, "handler failed");
      else log.error({ err, seq: delivery.streamSequence }, "handler failed permanently");
    } finally {
      working.delete(m);
    }
    await settle(m, delivery, outcome);
  };

  const loop = (async () => {
    for await (const m of messages) {
      if (stopping) {
        // Pulled but not started: hand it straight back so another replica can take it.
        m.nak();
        continue;
      }
      await inFlight.add(
        handle(m).catch((err: unknown) => {
          // settle() itself failed (e.g. the idempotency store is down): leave the message
          // unacked so the server redelivers it after ack_wait.
          log.error({ err, seq: m.info.streamSequence }, "could not settle message");
        }),
      );
    }
  })();

  let stopped: Promise<void> | undefined;
  return {
    stats,
    stop() {
      stopped ??= (async () => {
        stopping = true;
        await messages.close();
        await loop;
        await inFlight.drain();
        clearInterval(keepAlive);
        log.info({ ...stats }, "consumer stopped");
      })();
      return stopped;
    },
  };
}
