/**
 * Receipts: what the router tells an originator about a message it sent — routed (one per
 * destination), rejected or expired (with a machine code and a reason a person can act on),
 * answered (a holder replied to a tracked request). A receipt is an Envelope from "hix" with
 * a `receipt` body, published to `hix.out.<originator>.receipt`.
 *
 * Its Nats-Msg-Id is derived from what it says (regarding id, status, facility), not from its
 * own fresh envelope id, so a redelivered message or a sweeper running twice publishes it once.
 */
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
