/**
 * Answering a RecordRequest from the facility's record store: the policy decides first
 * (purpose of use, requesting facility), then the store is searched. The answer is one
 * RecordTransfer — RECORDS, NO_MATCH or DENIED — sent back to the requester as a reply:
 * in_reply_to and causation_id are the request's id, correlation_id the request's
 * conversation. Its id is derived from the request's id, so a redelivered request yields
 * the same answer envelope and JetStream stores it once.
 */
import {
  PurposeOfUse,
  RecordCategory,
  TransferOutcome,
  newEnvelope,
  ulidTime,
  type ClinicalRecord,
  type Envelope,
  type RecordRequest,
} from "@hix/proto";
import { deterministicId } from "./message-id.js";
import type { FacilityProfile } from "./profile.js";
import type { RecordStore } from "./record-store.js";
import { PURPOSES } from "./profile.js";

export type PolicyDecision = { readonly allow: true } | { readonly allow: false; readonly reason: string };

/** The facility's disclosure policy applied to one request envelope. Reasons carry no PHI. */
export function decide(profile: FacilityProfile, request: Envelope): PolicyDecision {
  const from = request.fromFacility;
  if (profile.policy.denyFacilities.includes(from))
    return { allow: false, reason: `${profile.id} does not disclose to ${from}` };
  if (profile.policy.allowFacilities !== undefined && !profile.policy.allowFacilities.includes(from))
    return { allow: false, reason: `${from} is not among the facilities ${profile.id} discloses to` };
  const purpose = PURPOSES.find((p) => PurposeOfUse[p] === request.purposeOfUse);
  if (purpose === undefined || !profile.policy.allowPurposes.includes(purpose))
    return {
      allow: false,
      reason: `${profile.id} does not disclose for purpose ${purpose ?? "unspecified"} (allowed: ${profile.policy.allowPurposes.join(", ")})`,
    };
  return { allow: true };
}

const CATEGORY_FIELDS: Partial<Record<RecordCategory, keyof ClinicalRecord>> = {
  [RecordCategory.ENCOUNTERS]: "encounters",
  [RecordCategory.OBSERVATIONS]: "observations",
  [RecordCategory.CONDITIONS]: "conditions",
  [RecordCategory.ALLERGIES]: "allergies",
  [RecordCategory.MEDICATIONS]: "medications",
  [RecordCategory.PROCEDURES]: "procedures",
  [RecordCategory.IMMUNIZATIONS]: "immunizations",
  [RecordCategory.DOCUMENTS]: "documents",
};

/** Keeps only the categories asked for (RecordRequest.categories; empty means all). */
export function onlyCategories(
  record: ClinicalRecord,
  categories: readonly RecordCategory[],
): ClinicalRecord {
  if (categories.length === 0) return record;
  const keep = new Set(categories.map((c) => CATEGORY_FIELDS[c]).filter((f) => f !== undefined));
  const out = { ...record } as Record<string, unknown>;
  for (const field of Object.values(CATEGORY_FIELDS)) if (!keep.has(field)) out[field] = [];
  return out as unknown as ClinicalRecord;
}

export async function answerRecordRequest(
  request: Envelope,
  deps: { profile: FacilityProfile; store: RecordStore | undefined },
): Promise<Envelope> {
  if (request.body?.$case !== "recordRequest")
    throw new TypeError("answerRecordRequest needs a record_request envelope");
  const asked: RecordRequest = request.body.value;
  const query = asked.patient;
  let outcome: TransferOutcome;
  let reason = "";
  let records: ClinicalRecord[] = [];
  let patient = query;
  const decision = decide(deps.profile, request);
  if (!decision.allow) {
    outcome = TransferOutcome.DENIED;
    reason = decision.reason;
  } else if (deps.store === undefined || query === undefined) {
    outcome = TransferOutcome.NO_MATCH;
    reason =
      deps.store === undefined ? `${deps.profile.id} has no record store` : "the request names no patient";
  } else {
    const found = await deps.store.find(query);
    if (found.length === 0) {
      outcome = TransferOutcome.NO_MATCH;
      reason = `${deps.profile.id} holds no patient matching the request`;
    } else {
      outcome = TransferOutcome.RECORDS;
      patient = found[0]!.patient;
      records = found.map((f) => onlyCategories(f.record, asked.categories));
    }
  }
  const envelope = newEnvelope({
    fromFacility: deps.profile.id,
    toFacility: request.fromFacility,
    purposeOfUse: request.purposeOfUse,
    correlationId: request.correlationId || request.id,
    causationId: request.id,
    body: {
      $case: "recordTransfer",
      value: { inReplyTo: request.id, patient, records, outcome, reason },
    },
  });
  let time: number | undefined;
  try {
    time = ulidTime(request.id);
  } catch {
    time = undefined;
  }
  return {
    ...envelope,
    id: deterministicId({ facility: deps.profile.id, sender: "record-request", controlId: request.id, time }),
  };
}
