import type { Extension, Patient as FhirPatient } from "@medplum/fhirtypes";
import { AddressUse, AdministrativeSex, type Address, type Patient } from "@hix/proto";
import { fromPartialDate, toPartialDate } from "./dates.js";
import { localId, type MapContext } from "./context.js";
import type { Entry } from "./bundle.js";
import {
  addressFromFhir,
  addressToFhir,
  codeFromConcept,
  conceptFromCode,
  fromTable,
  identifiersFromFhir,
  identifierToFhir,
  nameToFhir,
  namesFromFhir,
  telecomFromFhir,
  telecomToFhir,
  type CodeTable,
} from "./datatypes.js";
import { compact, isObject, list, num, str } from "./values.js";

// Extensions from the FHIR R4 core extension registry (https://hl7.org/fhir/R4/extensibility-registry.html).
export const MOTHERS_MAIDEN_NAME = "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName";
export const BIRTH_PLACE = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace";

/** administrative-gender → AdministrativeSex (HL7 v2 codes A, N, X have no FHIR code of their own). */
const GENDER: CodeTable<AdministrativeSex> = {
  female: AdministrativeSex.FEMALE,
  male: AdministrativeSex.MALE,
  other: AdministrativeSex.OTHER,
  unknown: AdministrativeSex.UNKNOWN,
};

const GENDER_OUT: Partial<Record<AdministrativeSex, FhirPatient["gender"]>> = {
  [AdministrativeSex.UNSPECIFIED]: undefined,
  [AdministrativeSex.FEMALE]: "female",
  [AdministrativeSex.MALE]: "male",
  [AdministrativeSex.OTHER]: "other",
  [AdministrativeSex.UNKNOWN]: "unknown",
  [AdministrativeSex.AMBIGUOUS]: "other",
  [AdministrativeSex.NOT_APPLICABLE]: "unknown",
  [AdministrativeSex.NON_BINARY]: "other",
};

function extensions(resource: { extension?: unknown }, url: string): Record<string, unknown>[] {
  return list(resource.extension).filter(
    (e): e is Record<string, unknown> => isObject(e) && e["url"] === url,
  );
}

/**
 * The facility's primary id for the patient (Patient.local_patient_id): the identifier
 * whose system is the profile's MRN system when one is configured, else Patient.id,
 * else the identifier typed MR, else the uuid of a `urn:uuid:` fullUrl.
 */
export function patientLocalId(
  resource: FhirPatient,
  fullUrl: string | undefined,
  mrnSystem?: string,
): string {
  const ids = list(resource.identifier).filter(isObject);
  if (mrnSystem !== undefined) {
    const mrn = ids.find((i) => i["system"] === mrnSystem && str(i["value"]) !== "");
    if (mrn !== undefined) return str(mrn["value"]);
  }
  if (typeof resource.id === "string" && resource.id !== "") return resource.id;
  const mr = ids.find(
    (i) => JSON.stringify(i["type"] ?? "").includes('"code":"MR"') && str(i["value"]) !== "",
  );
  if (mr !== undefined) return str(mr["value"]);
  return localId({ resourceType: "Patient" }, fullUrl);
}

/** FHIR Patient → canonical Patient (field table: docs/mappings/fhir-r4.md#patient). */
export function patientFromFhir(ctx: MapContext, entry: Entry, facilityId: string): Patient {
  const r = entry.resource as FhirPatient;
  const at = entry.path;
  const patient: Patient = {
    sourceFacility: facilityId,
    localPatientId: patientLocalId(r, entry.fullUrl, ctx.mrnSystem),
    identifiers: identifiersFromFhir(r.identifier, `${at}.identifier`),
    names: namesFromFhir(ctx, r.name, `${at}.name`),
    sex: fromTable(ctx, GENDER, r.gender, `${at}.gender`, AdministrativeSex.UNSPECIFIED),
    addresses: [],
    telecom: telecomFromFhir(ctx, r.telecom, `${at}.telecom`),
    birthOrder: 0,
    mothersMaidenName: "",
  };
  if (r.birthDate !== undefined) patient.birthDate = toPartialDate(r.birthDate, `${at}.birthDate`);
  list(r.address).forEach((a, n) => {
    const address = addressFromFhir(ctx, a, `${at}.address[${n}]`);
    if (address !== undefined) patient.addresses.push(address);
  });
  // patient-birthPlace (valueAddress) → an address with use BIRTH.
  for (const ext of extensions(r, BIRTH_PLACE)) {
    const place = addressFromFhir(ctx, ext["valueAddress"], `${at}.extension.valueAddress`, AddressUse.BIRTH);
    if (place !== undefined) patient.addresses.push(place);
  }
  // multipleBirthInteger is the birth order (R4 Patient.multipleBirth[x]); stating one implies a multiple birth.
  if (typeof r.multipleBirthBoolean === "boolean") patient.multipleBirth = r.multipleBirthBoolean;
  const order = num(r.multipleBirthInteger);
  if (order !== undefined) {
    patient.multipleBirth = true;
    patient.birthOrder = Math.max(0, Math.trunc(order));
  }
  if (typeof r.deceasedBoolean === "boolean") patient.deceased = r.deceasedBoolean;
  if (r.deceasedDateTime !== undefined) {
    patient.deceased = true;
    patient.deceasedDate = toPartialDate(r.deceasedDateTime, `${at}.deceasedDateTime`, "dateTime");
  }
  const maiden = extensions(r, MOTHERS_MAIDEN_NAME)[0];
  patient.mothersMaidenName = str(maiden?.["valueString"]);
  const communications = list(r.communication).filter(isObject);
  const preferred = communications.find((c) => c["preferred"] === true) ?? communications[0];
  const language = codeFromConcept(preferred?.["language"]);
  if (language !== undefined) patient.language = language;
  const marital = codeFromConcept(r.maritalStatus);
  if (marital !== undefined) patient.maritalStatus = marital;
  return patient;
}

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/** A canonical id usable as a FHIR logical id (Resource.id syntax), else undefined. */
export function fhirId(id: string): string | undefined {
  return FHIR_ID.test(id) ? id : undefined;
}

/** Canonical Patient → FHIR Patient. */
export function patientToFhir(p: Patient): FhirPatient {
  const extension: Extension[] = [];
  if (p.mothersMaidenName) extension.push({ url: MOTHERS_MAIDEN_NAME, valueString: p.mothersMaidenName });
  const addresses: Address[] = [];
  for (const a of p.addresses) {
    if (a.use === AddressUse.BIRTH)
      extension.push({
        url: BIRTH_PLACE,
        valueAddress: addressToFhir({ ...a, use: AddressUse.UNSPECIFIED }),
      });
    else addresses.push(a);
  }
  const identifiers = p.identifiers.map(identifierToFhir);
  // A local id that is not a valid FHIR id still travels, as an MR identifier.
  if (
    p.localPatientId &&
    fhirId(p.localPatientId) === undefined &&
    !p.identifiers.some((i) => i.value === p.localPatientId)
  ) {
    identifiers.unshift({
      type: { coding: [{ system: "http://terminology.hl7.org/CodeSystem/v2-0203", code: "MR" }] },
      value: p.localPatientId,
    });
  }
  const multipleBirth =
    p.birthOrder > 0
      ? { multipleBirthInteger: p.birthOrder }
      : p.multipleBirth !== undefined
        ? { multipleBirthBoolean: p.multipleBirth }
        : {};
  const deceasedDate = fromPartialDate(p.deceasedDate);
  const deceased =
    deceasedDate !== undefined
      ? { deceasedDateTime: deceasedDate }
      : p.deceased !== undefined
        ? { deceasedBoolean: p.deceased }
        : {};
  const language = conceptFromCode(p.language);
  return compact<FhirPatient>({
    resourceType: "Patient",
    id: fhirId(p.localPatientId),
    extension,
    identifier: identifiers,
    name: p.names.map(nameToFhir),
    telecom: p.telecom.map(telecomToFhir),
    gender: GENDER_OUT[p.sex],
    birthDate: fromPartialDate(p.birthDate),
    ...deceased,
    address: addresses.map(addressToFhir),
    maritalStatus: conceptFromCode(p.maritalStatus),
    ...multipleBirth,
    communication: language !== undefined ? [{ language, preferred: true }] : undefined,
  });
}
