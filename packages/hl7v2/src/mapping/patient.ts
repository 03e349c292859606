import {
  AdministrativeSex,
  type ContactPoint,
  ContactPointUse,
  type Identifier,
  type Patient,
} from "@hix/proto";
import {
  readAddress,
  readCode,
  readIdentifier,
  readName,
  readTelecom,
  v2Table,
  writeAddress,
  writeCode,
  writeIdentifier,
  writeName,
  writePartialDate,
  writeTelecom,
} from "./datatypes.js";
import { composites, first, loc, partialDate, type Seg, value } from "./read.js";
import { esc, Fields, rep } from "./write.js";

/** HL7 v2 table 0001 administrative sex. */
const SEX: Record<string, AdministrativeSex> = {
  F: AdministrativeSex.FEMALE,
  M: AdministrativeSex.MALE,
  O: AdministrativeSex.OTHER,
  U: AdministrativeSex.UNKNOWN,
  A: AdministrativeSex.AMBIGUOUS,
  N: AdministrativeSex.NOT_APPLICABLE,
  X: AdministrativeSex.NON_BINARY,
};
const SEX_CODES: Partial<Record<AdministrativeSex, string>> = Object.fromEntries(
  Object.entries(SEX).map(([k, v]) => [v, k]),
);

/** US SSN namespace for PID-19, which carries the number with no assigning authority. */
const US_SSN = "http://hl7.org/fhir/sid/us-ssn";

export interface PatientContext {
  /** hix facility id (Patient.source_facility). */
  readonly facilityId: string;
  /** CX-5 type codes that mark the facility's own patient id, in order of preference. */
  readonly mrnTypeCodes: readonly string[];
}

function yesNo(raw: string): boolean | undefined {
  const v = raw.toUpperCase();
  return v === "Y" ? true : v === "N" ? false : undefined;
}

/**
 * PID → Patient (HL7 v2.5.1 §3.4.2). Identifiers come from PID-3, then PID-2 and PID-4
 * (pre-v2.5 external/alternate ids), then PID-19 (SSN, type SS); the local patient id is the
 * first with a configured type code (MR by default), else the first identifier.
 * Impossible dates in PID-7/PID-29 throw ConversionError at that field.
 */
export function readPatient(pid: Seg, ctx: PatientContext): Patient {
  const identifiers: Identifier[] = [];
  for (const field of [3, 2, 4]) {
    for (const c of composites(pid, field)) {
      const id = readIdentifier(c, loc(pid, field));
      if (id !== undefined) identifiers.push(id);
    }
  }
  const ssn = value(pid, 19);
  if (ssn !== "" && !identifiers.some((i) => i.typeCode === "SS" && i.value === ssn)) {
    identifiers.push({ value: ssn, system: US_SSN, assigner: "", typeCode: "SS" });
  }
  const local =
    ctx.mrnTypeCodes.map((t) => identifiers.find((i) => i.typeCode === t)).find((i) => i !== undefined) ??
    identifiers[0];

  const telecom: ContactPoint[] = [];
  for (const [field, use] of [
    [13, ContactPointUse.HOME],
    [14, ContactPointUse.WORK],
  ] as const) {
    for (const c of composites(pid, field)) {
      const t = readTelecom(c, use);
      if (t !== undefined) telecom.push(t);
    }
  }

  const patient: Patient = {
    sourceFacility: ctx.facilityId,
    localPatientId: local?.value ?? "",
    identifiers,
    names: [5, 9].flatMap((f) => composites(pid, f).flatMap((c) => readName(c) ?? [])),
    sex: SEX[value(pid, 8).toUpperCase()] ?? AdministrativeSex.UNSPECIFIED,
    addresses: composites(pid, 11).flatMap((c) => readAddress(c) ?? []),
    telecom,
    birthOrder: 0,
    mothersMaidenName: first(pid, 6).sub(1, 1),
  };
  const birthDate = partialDate(value(pid, 7), loc(pid, 7));
  if (birthDate !== undefined) patient.birthDate = birthDate;
  const multiple = yesNo(value(pid, 24));
  if (multiple !== undefined) patient.multipleBirth = multiple;
  const order = value(pid, 25);
  if (/^\d{1,3}$/.test(order)) patient.birthOrder = Number(order);
  // PID-30 death indicator; a valued PID-29 date of death implies it (§3.4.2.29).
  const deathDate = partialDate(value(pid, 29), loc(pid, 29));
  const deceased = yesNo(value(pid, 30)) ?? (deathDate !== undefined ? true : undefined);
  if (deceased !== undefined) patient.deceased = deceased;
  if (deceased === true && deathDate !== undefined) patient.deceasedDate = deathDate;
  const language = readCode(first(pid, 15), v2Table("0296"));
  if (language !== undefined) patient.language = language;
  const marital = readCode(first(pid, 16), v2Table("0002"));
  if (marital !== undefined) patient.maritalStatus = marital;
  return patient;
}

/**
 * Patient → PID. Every identifier goes to PID-3 (with its type code, so PID-19's SSN comes back
 * as the same SS identifier); the local patient id is added first as type PI when no identifier
 * carries it. Names go to PID-5, home and other telecom to PID-13, work telecom to PID-14.
 */
export function writePid(p: Patient): string {
  const ids = [...p.identifiers];
  if (p.localPatientId !== "" && !ids.some((i) => i.value === p.localPatientId)) {
    ids.unshift({ value: p.localPatientId, system: "", assigner: "", typeCode: "PI" });
  }
  const work = p.telecom.filter((t) => t.use === ContactPointUse.WORK);
  const other = p.telecom.filter((t) => t.use !== ContactPointUse.WORK);
  const f = new Fields()
    .set(1, "1")
    .set(3, rep(ids.map(writeIdentifier)))
    .set(5, rep(p.names.map(writeName)))
    .set(6, esc(p.mothersMaidenName))
    .set(7, writePartialDate(p.birthDate))
    .set(8, SEX_CODES[p.sex] ?? "")
    .set(11, rep(p.addresses.map(writeAddress)))
    .set(13, rep(other.map(writeTelecom)))
    .set(14, rep(work.map(writeTelecom)))
    .set(15, writeCode(p.language))
    .set(16, writeCode(p.maritalStatus))
    .set(24, p.multipleBirth === undefined ? "" : p.multipleBirth ? "Y" : "N")
    .set(25, p.birthOrder > 0 ? String(p.birthOrder) : "")
    .set(29, p.deceased === true ? writePartialDate(p.deceasedDate) : "")
    .set(30, p.deceased === undefined ? "" : p.deceased ? "Y" : "N");
  return f.toSegment("PID");
}
