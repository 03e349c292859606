import {
  AdministrativeSex,
  type ConversionWarning,
  Document,
  DocumentStatus,
  type Identifier,
  Patient,
  type Practitioner,
} from "@hix/proto";
import type { El } from "./xml.js";
import {
  SSN_OID,
  readAddress,
  readCode,
  readIdentifier,
  readInstant,
  readName,
  readPartialDate,
  readPractitioner,
  readTelecom,
  readTs,
} from "./datatypes.js";

/** HL7 V3 AdministrativeGender (2.16.840.1.113883.5.1) → canonical sex. */
const SEXES: Record<string, AdministrativeSex> = {
  M: AdministrativeSex.MALE,
  F: AdministrativeSex.FEMALE,
  // "Undifferentiated": FHIR maps it to "other".
  UN: AdministrativeSex.OTHER,
};

export interface PatientOptions {
  facilityId: string;
  /** OID of the facility's MRN namespace; when unset the first non-SSN id is the local id. */
  mrnRoot?: string | undefined;
}

/**
 * recordTarget/patientRole (C-CDA US Realm Header 2.16.840.1.113883.10.20.22.1.1) → Patient.
 * The local patient id is the id whose root is the facility's MRN namespace, else the first
 * id with an extension that is not an SSN.
 */
export function readPatient(role: El, options: PatientOptions, warnings: ConversionWarning[]): Patient {
  const ids = role.all("id");
  const identifiers: Identifier[] = [];
  let localId = "";
  for (const idEl of ids) {
    const id = readIdentifier(idEl);
    if (id === undefined) continue;
    const root = idEl.attr("root");
    const ext = idEl.attr("extension");
    if (options.mrnRoot !== undefined && root === options.mrnRoot) {
      id.typeCode = "MR";
      localId = id.value;
    } else if (localId === "" && options.mrnRoot === undefined && ext !== undefined && root !== SSN_OID) {
      localId = id.value;
    }
    identifiers.push(id);
  }
  if (localId === "") {
    warnings.push({
      code: "ccda.no_local_id",
      location: `${role.path}/id`,
      message: "no facility patient id besides national ids; local_patient_id left empty",
    });
  }
  const person = role.one("patient");
  const patient = Patient.fromPartial({
    sourceFacility: options.facilityId,
    localPatientId: localId,
    identifiers,
    addresses: role
      .all("addr")
      .map(readAddress)
      .filter((a) => a !== undefined),
    telecom: role
      .all("telecom")
      .map(readTelecom)
      .filter((t) => t !== undefined),
  });
  if (person === undefined) {
    warnings.push({
      code: "ccda.no_patient",
      location: `${role.path}/patient`,
      message: "patientRole has no patient element",
    });
    return patient;
  }
  patient.names = person
    .all("name")
    .map(readName)
    .filter((n) => n !== undefined);
  const birth = readPartialDate(person.one("birthTime"));
  if (birth !== undefined) patient.birthDate = birth;
  const gender = person.one("administrativeGenderCode");
  const genderCode = gender?.attr("code");
  if (genderCode !== undefined) {
    const sex = SEXES[genderCode];
    if (sex === undefined) {
      warnings.push({
        code: "ccda.unknown_gender",
        location: gender!.attrPath("code"),
        message: "administrative gender code not in HL7 V3 AdministrativeGender",
      });
    }
    patient.sex = sex ?? AdministrativeSex.UNKNOWN;
  } else if (gender?.nullFlavor !== undefined) {
    patient.sex = AdministrativeSex.UNKNOWN;
  }
  // sdtc extensions (C-CDA R2.1 §1.1 US Realm Header): multipleBirthInd, multipleBirthOrderNumber,
  // deceasedInd, deceasedTime.
  const multiple = person.one("multipleBirthInd")?.attr("value");
  if (multiple !== undefined) patient.multipleBirth = multiple === "true";
  const order = Number(person.one("multipleBirthOrderNumber")?.attr("value"));
  if (Number.isInteger(order) && order > 0) {
    patient.birthOrder = order;
    patient.multipleBirth = true;
  }
  const deceased = person.one("deceasedInd")?.attr("value");
  if (deceased !== undefined) patient.deceased = deceased === "true";
  const deathDate = readPartialDate(person.one("deceasedTime"));
  if (deathDate !== undefined) {
    patient.deceased = true;
    patient.deceasedDate = deathDate;
  }
  const marital = readCode(person.one("maritalStatusCode"));
  if (marital !== undefined) patient.maritalStatus = marital;
  const communications = person.all("languageCommunication");
  const preferred =
    communications.find((c) => c.one("preferenceInd")?.attr("value") === "true") ?? communications[0];
  const language = preferred?.one("languageCode")?.attr("code");
  if (language !== undefined)
    patient.language = { system: "urn:ietf:bcp:47", code: language, display: "", version: "" };
  return patient;
}

/** The document's own identity: id, type, title, time, authors, language (CDA header). */
export interface DocumentHeader {
  id: string;
  document: Document;
  authors: Practitioner[];
  recipients: Practitioner[];
  effectiveAt: Date | undefined;
  templateRoots: string[];
}

/**
 * The ClinicalDocument header and the original bytes → Document (FHIR DocumentReference):
 * the whole C-CDA travels as an attachment with media type application/xml (HL7 CDA R2
 * IG for FHIR DocumentReference uses "application/xml" or "text/xml" for CDA).
 */
export function readDocumentHeader(doc: El, bytes: Buffer): DocumentHeader {
  const idEl = doc.one("id");
  const root = idEl?.attr("root");
  const ext = idEl?.attr("extension");
  const id = ext !== undefined ? (root === undefined ? ext : `${root}^${ext}`) : (root ?? "");
  const effectiveAt = readInstant(doc.one("effectiveTime"));
  // Time is checked even on the author: an impossible date anywhere in the header is refused.
  const authors = doc
    .all("author")
    .map((a) => {
      readTs(a.one("time"));
      return readPractitioner(a.one("assignedAuthor"));
    })
    .filter((p) => p !== undefined);
  const recipients = doc
    .all("informationRecipient")
    .map((r) => readPractitioner(r.one("intendedRecipient")))
    .filter((p) => p !== undefined);
  const document = Document.fromPartial({
    id,
    title: doc.one("title")?.text ?? "",
    status: DocumentStatus.CURRENT,
    authors,
    mediaType: "application/xml",
    language: doc.one("languageCode")?.attr("code") ?? "",
  });
  const type = readCode(doc.one("code"));
  if (type !== undefined) document.type = type;
  if (effectiveAt !== undefined) document.createdAt = effectiveAt;
  document.content = { $case: "inline", value: bytes };
  return { id, document, authors, recipients, effectiveAt, templateRoots: doc.templateRoots() };
}
