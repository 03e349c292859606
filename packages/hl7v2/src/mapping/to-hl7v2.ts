import {
  AnnouncementKind,
  type ClinicalRecord,
  ConversionError,
  type EnvelopeBody,
  newId,
  type Patient,
  type PatientAnnouncement,
  type ReferralPacket,
} from "@hix/proto";
import { writeIdentifier } from "./datatypes.js";
import { writeDocument } from "./document.js";
import { writePv1 } from "./encounter.js";
import { writePid } from "./patient.js";
import { writeAl1, writeDg1, writePrd, writeRf1 } from "./referral.js";
import { writeResults } from "./results.js";
import { comp, dtm, esc, Fields, rep } from "./write.js";

export interface CanonicalToHl7Options {
  /** MSH-4 sending facility. */
  sendingFacility: string;
  /** MSH-6 receiving facility. */
  receivingFacility: string;
  /** MSH-10 control id of the first message; later messages get `-2`, `-3` … Default: a new ULID (first 20 characters). */
  controlId?: string;
  /** MSH-12 version id; default 2.5.1. */
  version?: string;
  /** MSH-3 sending application; default HIX. */
  sendingApplication?: string;
  /** MSH-7 time of the message; default now. */
  now?: Date;
}

/** Message structure (MSH-9.3) of each ADT event written (HL7 v2.5.1 chapter 3). */
const ADT_STRUCTURE: Record<string, string> = {
  A01: "ADT_A01",
  A03: "ADT_A03",
  A04: "ADT_A01",
  A05: "ADT_A05",
  A08: "ADT_A01",
  A28: "ADT_A05",
  A31: "ADT_A05",
  A40: "ADT_A39",
};
const KIND_OF_EVENT: Record<string, AnnouncementKind> = {
  A01: AnnouncementKind.REGISTERED,
  A04: AnnouncementKind.REGISTERED,
  A05: AnnouncementKind.REGISTERED,
  A28: AnnouncementKind.REGISTERED,
  A03: AnnouncementKind.UPDATED,
  A08: AnnouncementKind.UPDATED,
  A31: AnnouncementKind.UPDATED,
  A40: AnnouncementKind.MERGED,
};
const DEFAULT_EVENT: Partial<Record<AnnouncementKind, string>> = {
  [AnnouncementKind.REGISTERED]: "A04",
  [AnnouncementKind.UPDATED]: "A08",
  [AnnouncementKind.MERGED]: "A40",
};

/**
 * Canonical envelope body → HL7 v2 ER7 text, segments ended by CR; one message, or several one
 * after another when the content needs them:
 * - PatientAnnouncement → ADT^A04 (registered), ADT^A08 (updated) or ADT^A40 (merged, with MRG);
 *   the announcement's own source_event is kept when it is one of the mapped ADT events of the same kind.
 * - RecordTransfer → per record, one ORU^R01 for its observations and one MDM^T02 per document.
 * - ReferralPacket → REF^I12.
 * Other bodies (requests, receipts) have no HL7 v2 form: ConversionError `hl7.unsupported_body`.
 */
export function canonicalToHl7v2(body: EnvelopeBody, options: CanonicalToHl7Options): string {
  const base = options.controlId ?? newId().slice(0, 20);
  let n = 0;
  const header = (type: string): string => {
    const id = n++ === 0 ? base : `${base}-${n}`;
    // MSH-1 is the field separator itself, so MSH-n is field n-1 after the segment id.
    const msh = (field: number): number => field - 1;
    return new Fields()
      .set(msh(2), "^~\\&")
      .set(msh(3), esc(options.sendingApplication ?? "HIX"))
      .set(msh(4), esc(options.sendingFacility))
      .set(msh(6), esc(options.receivingFacility))
      .set(msh(7), dtm(options.now ?? new Date()))
      .set(msh(9), type)
      .set(msh(10), esc(id))
      .set(msh(11), "P")
      .set(msh(12), esc(options.version ?? "2.5.1"))
      .toSegment("MSH");
  };
  const messages: string[][] = [];
  switch (body.$case) {
    case "patientAnnouncement":
      messages.push(announcement(body.value, header));
      break;
    case "recordTransfer": {
      const patient = body.value.patient;
      if (patient === undefined) {
        throw new ConversionError(
          "hl7.missing_patient",
          "RecordTransfer.patient",
          "a record transfer needs a patient for PID",
        );
      }
      for (const rec of body.value.records) messages.push(...recordMessages(patient, rec, header));
      break;
    }
    case "referralPacket":
      messages.push(referral(body.value, header));
      break;
    default:
      throw new ConversionError(
        "hl7.unsupported_body",
        body.$case,
        "this kind of message has no HL7 v2 form",
      );
  }
  return messages.map((segments) => segments.map((s) => `${s}\r`).join("")).join("");
}

type Header = (type: string) => string;

function announcement(a: PatientAnnouncement, header: Header): string[] {
  if (a.patient === undefined) {
    throw new ConversionError(
      "hl7.missing_patient",
      "PatientAnnouncement.patient",
      "an announcement needs a patient for PID",
    );
  }
  const [code, trigger = ""] = a.sourceEvent.split("^");
  const event = code === "ADT" && KIND_OF_EVENT[trigger] === a.kind ? trigger : DEFAULT_EVENT[a.kind];
  if (event === undefined) {
    throw new ConversionError(
      "hl7.unsupported_body",
      "PatientAnnouncement.kind",
      "announcement kind not stated",
    );
  }
  const out = [
    header(`ADT^${event}^${ADT_STRUCTURE[event]}`),
    new Fields().set(1, event).set(2, dtm(a.occurredAt)).toSegment("EVN"),
    writePid(a.patient),
  ];
  if (a.kind === AnnouncementKind.MERGED) {
    out.push(new Fields().set(1, rep(a.retiredIds.map(writeIdentifier))).toSegment("MRG"));
  }
  return out;
}

function recordMessages(patient: Patient, rec: ClinicalRecord, header: Header): string[][] {
  const out: string[][] = [];
  const pv1For = (encounterId: string): string[] => {
    const e = rec.encounters.find((x) => x.id === encounterId) ?? rec.encounters[0];
    return e === undefined ? [] : [writePv1(e)];
  };
  // A record with neither observations nor documents still says who the patient is: an ORU with PID only.
  if (rec.observations.length > 0 || rec.documents.length === 0) {
    out.push([
      header("ORU^R01^ORU_R01"),
      writePid(patient),
      ...pv1For(rec.observations[0]?.encounterId ?? ""),
      ...writeResults(rec.observations),
    ]);
  }
  for (const doc of rec.documents) {
    out.push([
      header("MDM^T02^MDM_T02"),
      new Fields().set(1, "T02").set(2, dtm(doc.createdAt)).toSegment("EVN"),
      writePid(patient),
      ...pv1For(doc.encounterId),
      ...writeDocument(doc),
    ]);
  }
  return out;
}

function referral(r: ReferralPacket, header: Header): string[] {
  if (r.patient === undefined) {
    throw new ConversionError(
      "hl7.missing_patient",
      "ReferralPacket.patient",
      "a referral needs a patient for PID",
    );
  }
  const out = [
    header("REF^I12^REF_I12"),
    writeRf1({
      urgency: r.urgency,
      referralId: r.referralId,
      referredAt: r.referredAt,
      reason: r.reason,
      reasonCodes: r.reasonCodes,
    }),
  ];
  if (r.summary !== "") out.push(new Fields().set(1, "1").set(3, esc(r.summary)).toSegment("NTE"));
  if (r.referringPractitioner !== undefined) {
    out.push(writePrd(comp("RP", "Referring Provider", "HL70286"), r.referringPractitioner));
  }
  if (r.receivingPractitioner !== undefined) {
    out.push(writePrd(comp("RT", "Referred to Provider", "HL70286"), r.receivingPractitioner));
  }
  out.push(writePid(r.patient));
  r.problems.forEach((c, i) => out.push(writeDg1(c, i + 1)));
  r.allergies.forEach((a, i) => out.push(writeAl1(a, i + 1)));
  out.push(...writeResults(r.results));
  return out;
}
