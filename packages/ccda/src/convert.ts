import {
  ClinicalRecord,
  type Code,
  type Conversion,
  ConversionError,
  type ConversionWarning,
  ReferralPacket,
  ReferralUrgency,
  RecordTransfer,
  TransferOutcome,
} from "@hix/proto";
import { DEFAULT_MAX_BYTES, type El, parseClinicalDocument } from "./xml.js";
import { readPatient } from "./header.js";
import { readDocumentHeader } from "./header.js";
import { allSections, entryStatements, sectionKind, type SectionKind } from "./sections.js";
import { readProblems } from "./problems.js";
import { readMedications } from "./medications.js";
import { readAllergies } from "./allergies.js";
import { readResults } from "./results.js";
import { readCode } from "./datatypes.js";

export interface CcdaOptions {
  /** hix id of the facility the document comes from (Patient.source_facility, referring facility). */
  facilityId?: string;
  /** OID of the facility's MRN namespace in recordTarget/patientRole/id/@root; see readPatient. */
  mrnRoot?: string;
  /** Largest document accepted, in bytes; default 20 MiB. */
  maxBytes?: number;
}

/** C-CDA R2.1 Referral Note document template, and the LOINC codes it is sent with. */
const REFERRAL_NOTE_TEMPLATE = "2.16.840.1.113883.10.20.22.1.14";
// 57133-1 is LOINC "Referral note"; the HL7 example file uses 57113-1, so both are recognised.
const REFERRAL_NOTE_CODES = ["57133-1", "57113-1"];

/** HL7 V3 ActPriority (2.16.840.1.113883.5.7) → referral urgency. */
const PRIORITIES: Record<string, ReferralUrgency> = {
  R: ReferralUrgency.ROUTINE,
  UR: ReferralUrgency.URGENT,
  A: ReferralUrgency.ASAP,
  S: ReferralUrgency.STAT,
  EM: ReferralUrgency.STAT,
};

/**
 * A C-CDA document (CCD, Referral Note, Transfer Summary, or any CDA R2 document with a
 * US Realm Header) → one envelope body. A Referral Note becomes a `referralPacket`; every
 * other document a `recordTransfer` push. The original document always travels as a Document
 * (media type application/xml, bytes inline) — in the ClinicalRecord, or the packet's attachments.
 *
 * Refused with a ConversionError (location an XPath-ish path, message without values): input
 * that is not XML, not a ClinicalDocument, has a DTD, is too large, has no recordTarget, or
 * holds a malformed or impossible timestamp in anything mapped.
 */
export function ccdaToCanonical(xml: string | Uint8Array, options: CcdaOptions = {}): Conversion {
  const { root, bytes } = parseClinicalDocument(xml, options.maxBytes ?? DEFAULT_MAX_BYTES);
  const warnings: ConversionWarning[] = [];
  const role = root.at("recordTarget", "patientRole");
  if (role === undefined) {
    throw new ConversionError(
      "ccda.no_record_target",
      `${root.path}/recordTarget/patientRole`,
      "document names no patient (recordTarget/patientRole is required by the CDA header)",
    );
  }
  if (root.all("recordTarget").length > 1) {
    warnings.push({
      code: "ccda.several_record_targets",
      location: `${root.path}/recordTarget`,
      message: "only the first recordTarget is carried over",
    });
  }
  const facilityId = options.facilityId ?? "";
  const patient = readPatient(role, { facilityId, mrnRoot: options.mrnRoot }, warnings);
  const header = readDocumentHeader(root, bytes);

  const sections = groupSections(root);
  const problems = sections.problems.flatMap((s) => readProblems(s, warnings));
  const medications = sections.medications.flatMap((s) => readMedications(s, warnings));
  const allergies = sections.allergies.flatMap((s) => readAllergies(s, warnings));
  const results = sections.results.flatMap((s) => readResults(s, warnings));
  if (root.at("component", "nonXMLBody") !== undefined) {
    warnings.push({
      code: "ccda.unstructured",
      location: `${root.path}/component/nonXMLBody`,
      message: "unstructured document: no entries, carried as the attached original only",
    });
  }

  const docCode = root.one("code")?.attr("code");
  const isReferral =
    header.templateRoots.includes(REFERRAL_NOTE_TEMPLATE) ||
    (docCode !== undefined && REFERRAL_NOTE_CODES.includes(docCode));
  if (isReferral) {
    const packet = ReferralPacket.fromPartial({
      referralId: header.id,
      referringFacilityId: facilityId,
      patient,
      problems,
      medications,
      allergies,
      results,
      attachments: [header.document],
    });
    if (header.authors[0] !== undefined) packet.referringPractitioner = header.authors[0];
    if (header.recipients[0] !== undefined) packet.receivingPractitioner = header.recipients[0];
    if (header.effectiveAt !== undefined) packet.referredAt = header.effectiveAt;
    const reasonSection = sections.reasonForReferral[0];
    if (reasonSection !== undefined) {
      packet.reason = reasonSection.one("text")?.text ?? "";
      const { codes, urgency } = readReferralActs(reasonSection);
      packet.reasonCodes = codes;
      packet.urgency = urgency;
    } else {
      warnings.push({
        code: "ccda.no_reason_for_referral",
        location: `${root.path}/component/structuredBody`,
        message: "referral note has no Reason for Referral section",
      });
    }
    return { bodies: [{ $case: "referralPacket", value: packet }], warnings };
  }

  const record = ClinicalRecord.fromPartial({
    sourceFacility: facilityId,
    localPatientId: patient.localPatientId,
    conditions: problems,
    medications,
    allergies,
    observations: results,
    documents: [header.document],
  });
  const transfer = RecordTransfer.fromPartial({
    patient,
    records: [record],
    outcome: TransferOutcome.RECORDS,
  });
  return { bodies: [{ $case: "recordTransfer", value: transfer }], warnings };
}

function groupSections(root: El): Record<SectionKind, El[]> {
  const groups: Record<SectionKind, El[]> = {
    problems: [],
    medications: [],
    allergies: [],
    results: [],
    reasonForReferral: [],
  };
  for (const s of allSections(root)) {
    const kind = sectionKind(s);
    if (kind !== undefined) groups[kind].push(s);
  }
  return groups;
}

/** Patient Referral Acts (2.16.840.1.113883.10.20.22.4.140) in the Reason for Referral section: code and priority. */
function readReferralActs(section: El): { codes: Code[]; urgency: ReferralUrgency } {
  const codes: Code[] = [];
  let urgency = ReferralUrgency.UNSPECIFIED;
  for (const act of entryStatements(section, "act")) {
    const code = readCode(act.one("code"));
    if (code !== undefined) codes.push(code);
    const priority = act.one("priorityCode")?.attr("code");
    if (priority !== undefined && urgency === ReferralUrgency.UNSPECIFIED)
      urgency = PRIORITIES[priority] ?? urgency;
  }
  return { codes, urgency };
}
