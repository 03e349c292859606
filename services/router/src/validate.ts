/**
 * Pipeline steps 1–2: decode and validate. Pure functions; each refusal is a RouterRejection
 * whose message tells the sending facility what to fix (field names and sizes, never values).
 */
import { ReceiptStatus, decodeEnvelope, hasValidBodyHash, isUlid, type Envelope } from "@hix/proto";
import { ledgerText } from "./audit-ledger.js";
import { RouterRejection } from "./errors.js";

/** A hix facility id: letters, digits, - and _, at most 64 (`hix facility add` makes no longer). */
const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

/** Step 1: size limit, then protobuf decode (bytes over the limit are never decoded). */
export function decodeSubmission(data: Uint8Array, maxBytes: number): Envelope {
  if (data.byteLength > maxBytes) {
    throw new RouterRejection(
      "router.too_large",
      `message is ${data.byteLength} bytes, over the router's limit of ${maxBytes}; send large attachments through the object store and reference them`,
    );
  }
  try {
    return decodeEnvelope(data);
  } catch (err) {
    const detail = err instanceof Error ? err.message : "not a hix.v1.Envelope";
    throw new RouterRejection(
      "router.undecodable",
      `message could not be decoded as a hix.v1.Envelope: ${detail}`,
    );
  }
}

/**
 * Step 2: required fields, well-formed ids, body hash, deadline. `encoded` is the bytes the
 * envelope was decoded from: the body hash is checked on them without encoding the body again.
 */
export function validateEnvelope(envelope: Envelope, now: Date, encoded?: Uint8Array): void {
  const invalid = (what: string): never => {
    // The id is not known to be well-formed yet: named as the ledger and the receipt name it.
    throw new RouterRejection("router.invalid", `envelope ${ledgerText(envelope.id) || "(no id)"}: ${what}`);
  };
  if (!isUlid(envelope.id)) invalid("id must be a ULID (26 characters, Crockford base32)");
  if (!TOKEN.test(envelope.fromFacility)) invalid("from_facility must be a hix facility id");
  if (envelope.toFacility !== "" && !TOKEN.test(envelope.toFacility))
    invalid("to_facility must be a hix facility id or empty");
  if (envelope.createdAt === undefined) invalid("created_at is required");
  if (envelope.correlationId !== "" && !isUlid(envelope.correlationId))
    invalid("correlation_id must be the ULID of the conversation's first message, or empty");
  if (envelope.causationId !== "" && !isUlid(envelope.causationId))
    invalid("causation_id must be the ULID of the message that caused this one, or empty");
  if (!hasValidBodyHash(envelope, encoded)) {
    throw new RouterRejection(
      "router.content_hash_mismatch",
      `envelope ${envelope.id}: content_hash is not the SHA-256 of the body; the message was altered or built without newEnvelope`,
    );
  }
  const body = envelope.body!;
  switch (body.$case) {
    case "recordRequest": {
      const r = body.value;
      if (r.patient === undefined) invalid("record_request.patient is required");
      const named = r.holder?.$case === "facilityId" ? r.holder.value : "";
      if (r.holder === undefined && envelope.toFacility === "")
        invalid("record_request needs a holder: facility_id, locate, or the envelope's to_facility");
      if (named !== "" && !TOKEN.test(named)) invalid("record_request.facility_id must be a hix facility id");
      if (named !== "" && envelope.toFacility !== "" && named !== envelope.toFacility)
        invalid("record_request.facility_id and to_facility name different facilities");
      if (r.deadline !== undefined && r.deadline.getTime() <= now.getTime()) {
        throw new RouterRejection(
          "router.deadline_passed",
          `request ${envelope.id}: its deadline ${r.deadline.toISOString()} had passed when the router received it; send a new request with a later deadline`,
          { status: ReceiptStatus.EXPIRED },
        );
      }
      return;
    }
    case "recordTransfer":
      if (envelope.toFacility === "") invalid("record_transfer needs to_facility");
      if (body.value.inReplyTo !== "" && !isUlid(body.value.inReplyTo))
        invalid("record_transfer.in_reply_to must be the ULID of the request it answers, or empty");
      return;
    case "referralPacket": {
      const receiving = body.value.receivingFacilityId;
      if (envelope.toFacility === "" && receiving === "")
        invalid("referral_packet needs receiving_facility_id or to_facility");
      if (receiving !== "" && !TOKEN.test(receiving))
        invalid("referral_packet.receiving_facility_id must be a hix facility id");
      if (receiving !== "" && envelope.toFacility !== "" && receiving !== envelope.toFacility)
        invalid("referral_packet.receiving_facility_id and to_facility name different facilities");
      if (body.value.patient === undefined) invalid("referral_packet.patient is required");
      return;
    }
    case "receipt":
      if (!isUlid(body.value.regardingId))
        invalid("receipt.regarding_id must be the ULID of the message the receipt is about");
      return;
    case "patientAnnouncement":
    case "identityAlert":
    case "receiptBatch": // refused when resolved: only the exchange makes these
      return;
  }
}
