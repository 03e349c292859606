/**
 * Receipts: what the router tells an originator about a message it sent — routed (one per
 * destination), rejected or expired (with a machine code and a reason a person can act on),
 * answered (a holder replied to a tracked request). A receipt is an Envelope from "hix" with
 * a `receipt` body, published to `hix.out.<originator>.receipt`.
 *
 * Sent alone, its Nats-Msg-Id is derived from what it says (regarding id, status, facility), not
 * from its own fresh envelope id, so a sweeper running twice, or a redelivered message whose
 * receipt went alone, publishes it once.
 *
 * The pipeline sends through a `ReceiptSender`, which puts receipts waiting for one facility in
 * one message (a `receiptBatch` of receipt envelopes): a stored message and a PubAck for each
 * receipt were a sixth of the CPU of a routed message (docs/adr/0004-router.md). Batched, a
 * receipt may reach its facility twice after a router crash; its key stays (regarding id,
 * status, facility).
 */
import { createHash } from "node:crypto";
import type { Publish, Topology } from "@hix/bus";
import type { ReceiptStatus } from "@hix/proto";
import { PurposeOfUse, encodeEnvelope, newEnvelope, receiptStatusToJSON, type Envelope } from "@hix/proto";

/** Sender id of messages the exchange itself makes (envelope.proto from_facility). */
export const SYSTEM_SENDER = "hix";

export interface ReceiptInput {
  /** Facility that gets the receipt (the originator). */
  readonly to: string;
  /** Envelope id (or message id, for undecodable bytes) the receipt is about. */
  readonly regardingId: string;
  readonly status: ReceiptStatus;
  readonly code: string;
  readonly reason: string;
  /** Facility concerned: the destination routed to, refused or silent. */
  readonly facilityId?: string;
  readonly correlationId?: string;
  readonly purposeOfUse?: PurposeOfUse;
}

export function receiptEnvelope(input: ReceiptInput): Envelope {
  return newEnvelope({
    fromFacility: SYSTEM_SENDER,
    toFacility: input.to,
    purposeOfUse: input.purposeOfUse ?? PurposeOfUse.UNSPECIFIED,
    correlationId: input.correlationId ?? input.regardingId,
    causationId: input.regardingId,
    body: {
      $case: "receipt",
      value: {
        regardingId: input.regardingId,
        status: input.status,
        code: input.code,
        reason: input.reason,
        facilityId: input.facilityId ?? "",
      },
    },
  });
}

/** The receipt's stable message id: one receipt per (message, status, facility concerned). */
export function receiptMsgId(input: Pick<ReceiptInput, "regardingId" | "status" | "facilityId">): string {
  const status = receiptStatusToJSON(input.status).replace("RECEIPT_STATUS_", "").toLowerCase();
  return `${input.regardingId}.receipt.${status}.${input.facilityId || "-"}`;
}

/** Publishes the receipt and resolves once JetStream has stored it. */
export async function sendReceipt(publish: Publish, topology: Topology, input: ReceiptInput): Promise<void> {
  await publish(topology.outSubject(input.to, "receipt"), encodeEnvelope(receiptEnvelope(input)), {
    msgId: receiptMsgId(input),
    expectStream: topology.streams.out.name,
  });
}

/**
 * A batch's limits: receipts, and bytes of their variable text (a receipt envelope is a few
 * hundred bytes; a refusal's reason is longer). Far below the 1 MiB that NATS and HIX_OUT take
 * in one message, so a batch is never refused for its size.
 */
const MAX_BATCH = 128;
const MAX_BATCH_TEXT_BYTES = 256 * 1024;

/** Bytes of a receipt's text, an upper bound of what it adds to a batch beyond its fixed fields. */
function textBytes(input: ReceiptInput): number {
  return (
    Buffer.byteLength(input.reason) +
    input.code.length +
    input.regardingId.length +
    (input.facilityId?.length ?? 0) +
    (input.correlationId?.length ?? 0)
  );
}

export interface ReceiptSender {
  /** Resolves once JetStream has stored the receipt, alone or in a batch. */
  send(input: ReceiptInput): Promise<void>;
}

interface Lane {
  readonly waiting: Array<{ input: ReceiptInput; resolve: () => void; reject: (err: unknown) => void }>;
}

/**
 * Sends receipts with at most one publish to a facility waiting for its PubAck at a time (the
 * audit ledger's group commit, for receipts). What is made for that facility meanwhile waits and
 * goes out next, together: one receipt as a `receipt` message with its stable id, as when sent
 * alone; two or more as one `receiptBatch` message whose id is derived from theirs. At a few
 * messages a second a receipt mostly goes alone (a fan-out's receipts go together); under load
 * the batches grow with the load. A batch re-made after a redelivery holds other receipts and so
 * is not a duplicate: a facility may then see a receipt twice, as it may after the duplicate
 * window, and tells them apart by (regarding id, status, facility).
 */
export function receiptSender(publish: Publish, topology: Topology): ReceiptSender {
  const lanes = new Map<string, Lane>(); // a facility has a lane while its receipts are in flight

  const flush = (to: string, lane: Lane): void => {
    let count = 0;
    let bytes = 0;
    for (const w of lane.waiting) {
      bytes += textBytes(w.input);
      if (count > 0 && (count === MAX_BATCH || bytes > MAX_BATCH_TEXT_BYTES)) break;
      count++;
    }
    const batch = lane.waiting.splice(0, count);
    publishReceipts(
      publish,
      topology,
      to,
      batch.map((w) => w.input),
    )
      .then(
        () => batch.forEach((w) => w.resolve()),
        (err: unknown) => batch.forEach((w) => w.reject(err)),
      )
      .finally(() => {
        if (lane.waiting.length > 0) flush(to, lane);
        else lanes.delete(to);
      });
  };

  return {
    send(input) {
      return new Promise<void>((resolve, reject) => {
        const lane = lanes.get(input.to);
        if (lane !== undefined) {
          lane.waiting.push({ input, resolve, reject });
          return;
        }
        // The first receipt waits for the rest of this event-loop turn: messages finish in
        // bursts (one socket read carries many PubAcks), and their receipts go together.
        const opened: Lane = { waiting: [{ input, resolve, reject }] };
        lanes.set(input.to, opened);
        setImmediate(() => flush(input.to, opened));
      });
    },
  };
}

/** One receipt as it is sent alone; two or more as one `receiptBatch` to their facility. */
async function publishReceipts(
  publish: Publish,
  topology: Topology,
  to: string,
  inputs: readonly ReceiptInput[],
): Promise<void> {
  if (inputs.length === 1) return sendReceipt(publish, topology, inputs[0]!);
  const ids = inputs.map(receiptMsgId);
  const batch = newEnvelope({
    fromFacility: SYSTEM_SENDER,
    toFacility: to,
    purposeOfUse: PurposeOfUse.UNSPECIFIED,
    body: { $case: "receiptBatch", value: { receipts: inputs.map(receiptEnvelope) } },
  });
  await publish(topology.outSubject(to, "receipt"), encodeEnvelope(batch), {
    msgId: `receipts.${createHash("sha256").update(ids.join("\n")).digest("hex").slice(0, 32)}`,
    expectStream: topology.streams.out.name,
  });
}
