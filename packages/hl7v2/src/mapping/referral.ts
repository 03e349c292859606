import {
  type AllergyIntolerance,
  AllergyCategory,
  AllergyCriticality,
  AllergyIntoleranceType,
  ClinicalStatus,
  type Code,
  type Condition,
  ContactPointUse,
  type Practitioner,
  ReactionSeverity,
  ReferralUrgency,
  VerificationStatus,
} from "@hix/proto";
import {
  readCode,
  readName,
  readTelecom,
  v2Table,
  writeCode,
  writeName,
  writePartialDate,
  writeTelecom,
} from "./datatypes.js";
import { composites, first, instant, loc, partialDate, type Seg, value } from "./read.js";
import { comp, dtm, esc, Fields, rep } from "./write.js";

/** HL7 v2 table 0280 referral priority; "U" (urgent) is a local extension for FHIR "urgent". */
const URGENCY: Record<string, ReferralUrgency> = {
  R: ReferralUrgency.ROUTINE,
  A: ReferralUrgency.ASAP,
  S: ReferralUrgency.STAT,
  U: ReferralUrgency.URGENT,
};
const URGENCY_CODES: Partial<Record<ReferralUrgency, string>> = Object.fromEntries(
  Object.entries(URGENCY).map(([k, v]) => [v, k]),
);

export interface Rf1 {
  urgency: ReferralUrgency;
  referralId: string;
  referredAt: Date | undefined;
  reason: string;
  reasonCodes: Code[];
}

/**
 * RF1 (HL7 v2.5.1 §11.6.1): RF1-2 priority → urgency, RF1-6.1 originating referral id,
 * RF1-7 effective date → referred at, RF1-10 referral reason (CWE, repeating) → reason codes;
 * the reason text is their texts (or codes) joined by "; ".
 */
export function readRf1(rf1: Seg): Rf1 {
  const reasons = composites(rf1, 10).flatMap((c) => readCode(c, v2Table("0336")) ?? []);
  return {
    urgency: URGENCY[value(rf1, 2).toUpperCase()] ?? ReferralUrgency.UNSPECIFIED,
    referralId: value(rf1, 6),
    referredAt: instant(value(rf1, 7), loc(rf1, 7)),
    reason: reasons.map((r) => (r.display !== "" ? r.display : r.code)).join("; "),
    reasonCodes: reasons.filter((r) => r.code !== ""),
  };
}

export function writeRf1(r: Rf1): string {
  const codes = r.reasonCodes.map(writeCode);
  // A reason given only as text travels as a CWE with text only (CWE-2).
  if (codes.length === 0 && r.reason !== "") codes.push(comp("", esc(r.reason)));
  return new Fields()
    .set(1, "P^Pending^HL70283")
    .set(2, URGENCY_CODES[r.urgency] ?? "")
    .set(6, esc(r.referralId))
    .set(7, dtm(r.referredAt))
    .set(10, rep(codes))
    .toSegment("RF1");
}

/**
 * PRD (HL7 v2.5.1 §11.6.3) → Practitioner: name PRD-2, telecom PRD-5 (work), identifiers PRD-7
 * (PLN: id ^ type). PRD-1 role says which side of the referral it is (table 0286: RP referring, RT referred to).
 */
export function readPrd(prd: Seg): { role: string; practitioner: Practitioner } {
  const name = readName(first(prd, 2));
  const p: Practitioner = {
    identifiers: composites(prd, 7).flatMap((c) =>
      c.c(1) === "" ? [] : [{ value: c.c(1), system: "", assigner: c.c(3), typeCode: c.c(2) }],
    ),
    telecom: composites(prd, 5).flatMap((c) => readTelecom(c, ContactPointUse.WORK) ?? []),
    facilityId: "",
  };
  if (name !== undefined) p.name = name;
  return { role: value(prd, 1).toUpperCase(), practitioner: p };
}

export function writePrd(role: string, p: Practitioner): string {
  return new Fields()
    .set(1, role)
    .set(2, p.name === undefined ? "" : writeName(p.name))
    .set(5, rep(p.telecom.map(writeTelecom)))
    .set(7, rep(p.identifiers.map((i) => comp(esc(i.value), esc(i.typeCode), esc(i.assigner)))))
    .toSegment("PRD");
}

/** DG1-6 diagnosis type (table 0052): final → confirmed; admitting and working → provisional. */
const DIAGNOSIS_TYPE: Record<string, VerificationStatus> = {
  F: VerificationStatus.CONFIRMED,
  A: VerificationStatus.PROVISIONAL,
  W: VerificationStatus.PROVISIONAL,
};

/**
 * DG1 (HL7 v2.5.1 §6.5.2) → Condition: code DG1-3 (DG1-4 description as its text when DG1-3
 * has none), recorded DG1-5, verification from DG1-6, id DG1-20.1 diagnosis identifier.
 */
export function readDg1(dg1: Seg): Condition | undefined {
  let code = readCode(first(dg1, 3));
  const description = value(dg1, 4);
  if (code !== undefined && code.display === "") code.display = description;
  if (code === undefined && description !== "")
    code = { system: "", code: "", display: description, version: "" };
  if (code === undefined) return undefined;
  const c: Condition = {
    id: value(dg1, 20),
    code,
    clinicalStatus: ClinicalStatus.UNSPECIFIED,
    verificationStatus: DIAGNOSIS_TYPE[value(dg1, 6).toUpperCase()] ?? VerificationStatus.UNSPECIFIED,
    categories: [],
    notes: [],
    encounterId: "",
  };
  const recorded = instant(value(dg1, 5), loc(dg1, 5));
  if (recorded !== undefined) c.recordedAt = recorded;
  return c;
}

export function writeDg1(c: Condition, setId: number): string {
  return new Fields()
    .set(1, String(setId))
    .set(3, writeCode(c.code))
    .set(5, dtm(c.recordedAt))
    .set(
      6,
      c.verificationStatus === VerificationStatus.CONFIRMED
        ? "F"
        : c.verificationStatus === VerificationStatus.PROVISIONAL
          ? "W"
          : "",
    )
    .set(20, esc(c.id))
    .toSegment("DG1");
}

/** AL1-2 allergen type (table 0127). */
const ALLERGEN_TYPE: Record<string, AllergyCategory> = {
  DA: AllergyCategory.MEDICATION,
  FA: AllergyCategory.FOOD,
  EA: AllergyCategory.ENVIRONMENT,
  PA: AllergyCategory.ENVIRONMENT,
};
const ALLERGEN_TYPE_CODES: Partial<Record<AllergyCategory, string>> = {
  [AllergyCategory.MEDICATION]: "DA",
  [AllergyCategory.FOOD]: "FA",
  [AllergyCategory.ENVIRONMENT]: "EA",
};
/** AL1-4 allergy severity (table 0128). */
const SEVERITY: Record<string, ReactionSeverity> = {
  MI: ReactionSeverity.MILD,
  MO: ReactionSeverity.MODERATE,
  SV: ReactionSeverity.SEVERE,
};
const SEVERITY_CODES: Partial<Record<ReactionSeverity, string>> = Object.fromEntries(
  Object.entries(SEVERITY).map(([k, v]) => [v, k]),
);

/**
 * AL1 (HL7 v2.5.1 §3.4.6) → AllergyIntolerance: category AL1-2, code AL1-3, one reaction with
 * severity AL1-4 and manifestations AL1-5 (text), onset AL1-6 identification date.
 */
export function readAl1(al1: Seg): AllergyIntolerance | undefined {
  const code = readCode(first(al1, 3));
  if (code === undefined) return undefined;
  const category = ALLERGEN_TYPE[value(al1, 2).toUpperCase()];
  const severity = SEVERITY[value(al1, 4).toUpperCase()] ?? ReactionSeverity.UNSPECIFIED;
  const manifestations = composites(al1, 5).flatMap((c) =>
    c.c(1) === "" ? [] : [{ system: "", code: "", display: c.c(1), version: "" }],
  );
  const a: AllergyIntolerance = {
    id: "",
    code,
    type: AllergyIntoleranceType.UNSPECIFIED,
    categories: category === undefined ? [] : [category],
    criticality: AllergyCriticality.UNSPECIFIED,
    clinicalStatus: ClinicalStatus.UNSPECIFIED,
    verificationStatus: VerificationStatus.UNSPECIFIED,
    reactions:
      severity === ReactionSeverity.UNSPECIFIED && manifestations.length === 0
        ? []
        : [{ manifestations, severity, description: "" }],
    notes: [],
  };
  const onset = partialDate(value(al1, 6), loc(al1, 6));
  if (onset !== undefined) a.onset = onset;
  return a;
}

export function writeAl1(a: AllergyIntolerance, setId: number): string {
  const reaction = a.reactions[0];
  return new Fields()
    .set(1, String(setId))
    .set(2, ALLERGEN_TYPE_CODES[a.categories[0] ?? AllergyCategory.UNSPECIFIED] ?? "")
    .set(3, writeCode(a.code))
    .set(4, SEVERITY_CODES[reaction?.severity ?? ReactionSeverity.UNSPECIFIED] ?? "")
    .set(5, rep((reaction?.manifestations ?? []).map((m) => esc(m.display !== "" ? m.display : m.code))))
    .set(6, writePartialDate(a.onset))
    .toSegment("AL1");
}
