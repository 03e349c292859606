import type { JetStreamClient, PubAck } from "nats";
import {
  decodeEnvelope,
  encodeEnvelope,
  envelopeKind,
  unbatch,
  type Envelope,
  type EnvelopeKind,
} from "@hix/proto";
import type { Delivery, Handler } from "./consumer.js";
import { publish } from "./publish.js";
import { ack, reject, type Outcome } from "./outcome.js";
import type { MessageKind } from "./topology.js";

/**
 * Subject token of each body kind: the oneof field name as written in the .proto. A batch of
 * receipts travels on the receipt subject, as its receipts would.
 */
const SUBJECT_KIND: Readonly<Record<EnvelopeKind, MessageKind>> = {
  recordRequest: "record_request",
  recordTransfer: "record_transfer",
  referralPacket: "referral_packet",
  patientAnnouncement: "patient_announcement",
  receipt: "receipt",
  identityAlert: "identity_alert",
  receiptBatch: "receipt",
};

/** The `<kind>` subject token for an envelope; undefined when it has no body. */
export function subjectKind(envelope: Envelope): MessageKind | undefined {
  const kind = envelopeKind(envelope);
  return kind === undefined ? undefined : SUBJECT_KIND[kind];
}

/**
 * Publishes an envelope; its id is the `Nats-Msg-Id` unless `msgId` is given (the router
 * derives one per destination, so one envelope fanned out to two facilities is two messages).
 */
export async function publishEnvelope(
  js: JetStreamClient,
  subject: string,
  envelope: Envelope,
  options: { msgId?: string; expectStream?: string; headers?: Readonly<Record<string, string>> } = {},
): Promise<PubAck> {
  return publish(js, subject, encodeEnvelope(envelope), {
    msgId: options.msgId ?? envelope.id,
    ...(options.expectStream === undefined ? {} : { expectStream: options.expectStream }),
    ...(options.headers === undefined ? {} : { headers: options.headers }),
  });
}

/**
 * Adapts an envelope handler to the consumer loop: bytes that are not an Envelope are
 * rejected (dead-lettered with code `proto.decode`) without reaching the handler. A batch of
 * receipts reaches the handler one receipt at a time, in order; the first outcome that is not
 * an ack ends it and becomes the message's (a retry then hands every receipt over again).
 */
export function envelopeHandler(fn: (envelope: Envelope, delivery: Delivery) => Promise<Outcome>): Handler {
  return async (delivery) => {
    let envelope: Envelope;
    try {
      envelope = decodeEnvelope(delivery.data);
    } catch (err) {
      return reject("proto.decode", err instanceof Error ? err.message : "not a hix.v1.Envelope");
    }
    for (const carried of unbatch(envelope)) {
      const outcome = await fn(carried, delivery);
      if (outcome.kind !== "ack") return outcome;
    }
    return ack();
  };
}
