import {
  AnnouncementKind,
  ClinicalRecord,
  type Conversion,
  ConversionError,
  type ConversionWarning,
  type EnvelopeBody,
  type Identifier,
  type Patient,
  PatientAnnouncement,
  ReferralPacket,
  RecordTransfer,
  TransferOutcome,
} from "@hix/proto";
import { Hl7ParseError } from "../errors.js";
import type { Hl7Message } from "../message.js";
import { parse } from "../parse.js";
import { readIdentifier } from "./datatypes.js";
import { readDocument } from "./document.js";
import { readEncounter } from "./encounter.js";
import { type PatientContext, readPatient } from "./patient.js";
import { composites, instant, loc, locate, reps, type Seg, text, value } from "./read.js";
import { readAl1, readDg1, readPrd, readRf1 } from "./referral.js";
import { type CodeMaps, readResults, type ResultContext } from "./results.js";

export interface Hl7ToCanonicalOptions {
  /** hix id of the sending facility (Patient.source_facility); default MSH-4.1 as received. */
  facilityId?: string;
  /** CX-5 identifier type codes that mark the facility's own patient id, in order; default ["MR"]. */
  mrnTypeCodes?: string[];
  /** Local code maps applied to OBX-3, OBR-4 and coded OBX-5: CWE-3 system → local code → replacement. */
  codeMaps?: CodeMaps;
}

/** ADT trigger events mapped, and what each announces (HL7 v2.5.1 chapter 3). */
const ADT_EVENTS: Record<string, AnnouncementKind> = {
  A01: AnnouncementKind.REGISTERED, // admit
  A04: AnnouncementKind.REGISTERED, // register outpatient
  A05: AnnouncementKind.REGISTERED, // pre-admit
  A28: AnnouncementKind.REGISTERED, // add person information
  A03: AnnouncementKind.UPDATED, // discharge: demographics as of discharge
  A08: AnnouncementKind.UPDATED, // update patient information
  A31: AnnouncementKind.UPDATED, // update person information
  A40: AnnouncementKind.MERGED, // merge patient — patient identifier list
};

function parseOrRefuse(text: string): Hl7Message {
  try {
    return parse(text);
  } catch (err) {
    if (err instanceof Hl7ParseError) {
      const l = err.location;
      const where =
        l === undefined
          ? "message"
          : `segment ${l.segmentIndex}${l.segmentId === undefined ? "" : ` (${l.segmentId})`}${l.field === undefined ? "" : ` field ${l.field}`}`;
      throw new ConversionError(err.code, where, "not a readable HL7 v2 message", { cause: err });
    }
    throw err;
  }
}

function required(segs: readonly Seg[], id: string, messageType: string): Seg {
  const s = segs.find((x) => x.segment.id === id);
  if (s === undefined) {
    throw new ConversionError("hl7.missing_segment", id, `${messageType} has no ${id} segment`);
  }
  return s;
}

/** Segments from each PID up to the next PID (segments before the first PID are left out). */
function patientGroups(segs: readonly Seg[]): Seg[][] {
  const groups: Seg[][] = [];
  for (const s of segs) {
    if (s.segment.id === "PID") groups.push([s]);
    else groups.at(-1)?.push(s);
  }
  return groups;
}

function record(patient: Patient, partial: Partial<ClinicalRecord>): ClinicalRecord {
  return ClinicalRecord.fromPartial({
    sourceFacility: patient.sourceFacility,
    localPatientId: patient.localPatientId,
    ...partial,
  });
}

function transfer(patient: Patient, rec: ClinicalRecord): EnvelopeBody {
  return {
    $case: "recordTransfer",
    value: RecordTransfer.fromPartial({ patient, records: [rec], outcome: TransferOutcome.RECORDS }),
  };
}

/**
 * One HL7 v2 message → canonical envelope bodies (see docs/mappings/hl7v2.md for every field):
 * - ADT A01/A04/A05/A28 → PatientAnnouncement REGISTERED; A03/A08/A31 → UPDATED;
 *   A40 → one MERGED announcement per PID/MRG pair (MRG-1 → retired_ids).
 * - ORU^R01 → RecordTransfer (push) per patient: OBR/OBX observations, PV1 encounter.
 * - MDM^T02 → RecordTransfer (push) with the TXA/OBX document.
 * - REF^I12 → ReferralPacket.
 * Anything else is refused with ConversionError `hl7.unsupported_message` at MSH-9. Malformed or
 * impossible dates in mapped fields are refused at their location (`PID-7`, `OBX[3]-14`),
 * never shifted; error messages name places, never values.
 */
export function hl7v2ToCanonical(
  message: Hl7Message | string,
  options: Hl7ToCanonicalOptions = {},
): Conversion {
  const msg = typeof message === "string" ? parseOrRefuse(message) : message;
  const segs = locate(msg);
  const code = (msg.get("MSH-9.1") ?? "").toUpperCase();
  // v2.1/2.2 senders may leave MSH-9.2 empty; EVN-1 carries the event then.
  const trigger = (msg.get("MSH-9.2") ?? msg.get("EVN-1") ?? "").toUpperCase();
  const type = `${code}^${trigger}`;
  const warnings: ConversionWarning[] = [];
  const ctx: PatientContext = {
    facilityId: options.facilityId ?? msg.get("MSH-4") ?? "",
    mrnTypeCodes: options.mrnTypeCodes ?? ["MR"],
  };
  const results: ResultContext = { codeMaps: options.codeMaps ?? {}, warnings };

  if (code === "ADT" && ADT_EVENTS[trigger] !== undefined) {
    return { bodies: adt(segs, type, ADT_EVENTS[trigger], ctx), warnings };
  }
  if (type === "ORU^R01") {
    required(segs, "PID", type);
    const bodies = patientGroups(segs).map((group) => {
      const patient = readPatient(group[0]!, ctx);
      const pv1 = group.find((s) => s.segment.id === "PV1");
      const encounter = pv1 === undefined ? undefined : readEncounter(pv1);
      const observations = readResults(group, results);
      if (encounter !== undefined && encounter.id !== "") {
        for (const o of observations) o.encounterId = encounter.id;
      }
      return transfer(
        patient,
        record(patient, { encounters: encounter === undefined ? [] : [encounter], observations }),
      );
    });
    return { bodies, warnings };
  }
  if (type === "MDM^T02") {
    const patient = readPatient(required(segs, "PID", type), ctx);
    const txa = required(segs, "TXA", type);
    const pv1 = segs.find((s) => s.segment.id === "PV1");
    const encounter = pv1 === undefined ? undefined : readEncounter(pv1);
    const obxs = segs.slice(segs.indexOf(txa)).filter((s) => s.segment.id === "OBX");
    const doc = readDocument(txa, obxs, encounter?.id ?? "", warnings);
    return {
      bodies: [
        transfer(
          patient,
          record(patient, { encounters: encounter === undefined ? [] : [encounter], documents: [doc] }),
        ),
      ],
      warnings,
    };
  }
  if (type === "REF^I12") {
    return { bodies: [referral(segs, ctx, results)], warnings };
  }
  throw new ConversionError(
    "hl7.unsupported_message",
    "MSH-9",
    `message type ${type.slice(0, 16)} is not mapped to the canonical model (mapped: ADT A01/A03/A04/A05/A08/A28/A31/A40, ORU^R01, MDM^T02, REF^I12)`,
  );
}

function occurredAt(segs: readonly Seg[]): Date | undefined {
  const evn = segs.find((s) => s.segment.id === "EVN");
  const msh = segs[0]!;
  if (evn !== undefined) {
    const at = instant(value(evn, 6), loc(evn, 6)) ?? instant(value(evn, 2), loc(evn, 2));
    if (at !== undefined) return at;
  }
  return instant(value(msh, 7), loc(msh, 7));
}

function adt(
  segs: readonly Seg[],
  type: string,
  kind: AnnouncementKind,
  ctx: PatientContext,
): EnvelopeBody[] {
  const at = occurredAt(segs);
  const announce = (patient: Patient, retiredIds: Identifier[]): EnvelopeBody => {
    const value = PatientAnnouncement.fromPartial({ kind, patient, retiredIds, sourceEvent: type });
    if (at !== undefined) value.occurredAt = at;
    return { $case: "patientAnnouncement", value };
  };
  if (kind !== AnnouncementKind.MERGED) {
    return [announce(readPatient(required(segs, "PID", type), ctx), [])];
  }
  // ADT^A40 (§3.3.40): one or more PATIENT groups, each PID (survivor) followed by MRG (merged away).
  required(segs, "PID", type);
  return patientGroups(segs).map((group) => {
    const pid = group[0]!;
    const mrg = group.find((s) => s.segment.id === "MRG");
    if (mrg === undefined) {
      throw new ConversionError("hl7.missing_segment", pid.at, "ADT^A40 patient group has no MRG segment");
    }
    const retired = composites(mrg, 1).flatMap((c) => readIdentifier(c, loc(mrg, 1)) ?? []);
    if (retired.length === 0) {
      throw new ConversionError(
        "hl7.missing_field",
        loc(mrg, 1),
        "MRG-1 prior patient identifier list is empty",
      );
    }
    return announce(readPatient(pid, ctx), retired);
  });
}

function referral(segs: readonly Seg[], ctx: PatientContext, results: ResultContext): EnvelopeBody {
  const type = "REF^I12";
  const rf1Seg = required(segs, "RF1", type);
  const rf1 = readRf1(rf1Seg);
  const patient = readPatient(required(segs, "PID", type), ctx);
  const packet = ReferralPacket.fromPartial({
    referralId: rf1.referralId,
    referringFacilityId: ctx.facilityId,
    patient,
    reason: rf1.reason,
    reasonCodes: rf1.reasonCodes,
    urgency: rf1.urgency,
  });
  if (rf1.referredAt !== undefined) packet.referredAt = rf1.referredAt;
  // NTE segments right after RF1 are the referrer's notes on the referral: the summary.
  const summary: string[] = [];
  for (const s of segs.slice(segs.indexOf(rf1Seg) + 1)) {
    if (s.segment.id !== "NTE") break;
    summary.push(
      reps(s, 3)
        .map((r) => text(r, s.segment.delimiters))
        .join("\n"),
    );
  }
  packet.summary = summary.join("\n");
  for (const s of segs) {
    if (s.segment.id === "PRD") {
      const { role, practitioner } = readPrd(s);
      if (role === "RP" && packet.referringPractitioner === undefined)
        packet.referringPractitioner = practitioner;
      if (role === "RT" && packet.receivingPractitioner === undefined)
        packet.receivingPractitioner = practitioner;
    } else if (s.segment.id === "DG1") {
      const c = readDg1(s);
      if (c !== undefined) packet.problems.push(c);
    } else if (s.segment.id === "AL1") {
      const a = readAl1(s);
      if (a !== undefined) packet.allergies.push(a);
    }
  }
  packet.results = readResults(segs, results);
  return { $case: "referralPacket", value: packet };
}
