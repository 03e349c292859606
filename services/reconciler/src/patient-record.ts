/**
 * hix.v1.Patient → @hix/linkage LinkageRecord: which of a patient's names, addresses and
 * identifiers the index compares. Pure; the proto field sources are cited per line.
 */
import {
  AddressUse,
  AdministrativeSex,
  ContactPointSystem,
  DatePrecision,
  NameUse,
  type Patient,
} from "@hix/proto";
import type { LinkageRecord } from "@hix/linkage";

/** Identifier systems and type codes that mean a US Social Security number (HL7 v2 CX-5 "SS"). */
const SSN_SYSTEM = "http://hl7.org/fhir/sid/us-ssn";

const nonEmpty = (s: string | undefined): string | undefined =>
  s === undefined || s.trim() === "" ? undefined : s.trim();

/** The record's id in linkage terms: `<facility>/<local id>`. */
export function recordKey(facilityId: string, localId: string): string {
  return `${facilityId}/${localId}`;
}

export function patientToRecord(patient: Patient, facilityId?: string): LinkageRecord {
  const facility = nonEmpty(facilityId) ?? patient.sourceFacility;
  // Prefer the official/usual name (FHIR Patient.name.use, HL7 v2 XPN-7 "L"); skip old and nicknames.
  const name =
    patient.names.find((n) => n.use === NameUse.OFFICIAL || n.use === NameUse.USUAL) ??
    patient.names.find((n) => n.use !== NameUse.OLD && n.use !== NameUse.NICKNAME) ??
    patient.names[0];
  // FHIR Patient.address: the home address, else the first one not marked old.
  const address =
    patient.addresses.find((a) => a.use === AddressUse.HOME) ??
    patient.addresses.find((a) => a.use !== AddressUse.OLD) ??
    patient.addresses[0];
  const phone = patient.telecom.find((t) => t.system === ContactPointSystem.PHONE && t.value !== "");
  const email = patient.telecom.find((t) => t.system === ContactPointSystem.EMAIL && t.value !== "");
  const ssn = patient.identifiers.find((i) => i.typeCode === "SS" || i.system === SSN_SYSTEM);
  const birth = patient.birthDate;
  let birthDate: LinkageRecord["birthDate"];
  if (birth !== undefined && birth.year > 0 && birth.precision !== DatePrecision.UNSPECIFIED) {
    birthDate = {
      year: birth.year,
      ...(birth.precision !== DatePrecision.YEAR && birth.month > 0 ? { month: birth.month } : {}),
      ...(birth.precision === DatePrecision.DAY && birth.day > 0 ? { day: birth.day } : {}),
    };
  }
  // HL7 v2 PID-8 / FHIR Patient.gender: only F and M are identity-defining for matching.
  const sex =
    patient.sex === AdministrativeSex.FEMALE ? "F" : patient.sex === AdministrativeSex.MALE ? "M" : undefined;
  const record: LinkageRecord = {
    id: recordKey(facility, patient.localPatientId),
    facilityId: facility,
    mrn: nonEmpty(patient.localPatientId),
    given: nonEmpty(name?.given[0]),
    middle: nonEmpty(name?.given.slice(1).join(" ")),
    family: nonEmpty(name?.family),
    suffix: nonEmpty(name?.suffix[0]),
    birthDate,
    sex,
    // HL7 v2 PID-25 birth order, FHIR Patient.multipleBirthInteger.
    multipleBirthOrder: patient.birthOrder > 0 ? patient.birthOrder : undefined,
    addressLine: nonEmpty(address?.lines.join(" ")),
    city: nonEmpty(address?.city),
    state: nonEmpty(address?.state),
    postalCode: nonEmpty(address?.postalCode),
    phone: nonEmpty(phone?.value),
    ssn: nonEmpty(ssn?.value),
    email: nonEmpty(email?.value),
  };
  // Drop undefined keys: the record is stored as JSON and compared field by field.
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as LinkageRecord;
}

/** Whether a patient says enough to be placed in the index (a facility and its local id). */
export function isIndexable(patient: Patient | undefined): patient is Patient {
  return patient !== undefined && patient.sourceFacility !== "" && patient.localPatientId !== "";
}
