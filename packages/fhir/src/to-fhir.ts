import { createHash } from "node:crypto";
import type {
  AllergyIntolerance as FhirAllergy,
  Bundle,
  BundleEntry,
  Condition as FhirCondition,
  DocumentReference as FhirDocumentReference,
  Encounter as FhirEncounter,
  Immunization as FhirImmunization,
  MedicationStatement as FhirMedicationStatement,
  Observation as FhirObservation,
  Practitioner as FhirPractitioner,
  PractitionerRole as FhirPractitionerRole,
  Dosage,
  ObservationReferenceRange,
  AllergyIntoleranceReaction,
  Attachment,
  Procedure as FhirProcedure,
  Identifier as FhirIdentifier,
  Reference,
  Resource,
} from "@medplum/fhirtypes";
import type {
  AllergyIntolerance,
  ClinicalRecord,
  Condition,
  Document,
  Encounter,
  EnvelopeBody,
  Immunization,
  MedicationStatement,
  Observation,
  Patient,
  Practitioner,
  Procedure,
} from "@hix/proto";
import { fromInstant, fromPartialDate } from "./dates.js";
import {
  codingFromCode,
  conceptFromCode,
  conceptsFromCodes,
  identifierToFhir,
  nameToFhir,
  notesToFhir,
  periodToFhir,
  quantityToFhir,
  telecomToFhir,
  toTable,
} from "./datatypes.js";
import {
  ALLERGY_CATEGORY,
  ALLERGY_CRITICALITY,
  ALLERGY_TYPE,
  CLINICAL_STATUS,
  DOCUMENT_STATUS,
  ENCOUNTER_STATUS,
  IMMUNIZATION_STATUS,
  MEDICATION_STATUS,
  OBSERVATION_STATUS,
  PROCEDURE_STATUS,
  REACTION_SEVERITY,
  VERIFICATION_STATUS,
} from "./clinical.js";
import { fhirId, patientToFhir } from "./patient.js";
import { compact } from "./values.js";

/**
 * A required element with nothing to put in it (Encounter.class, Observation.code …): an
 * element carrying only the data-absent-reason extension, which reads back as "no code".
 */
const ABSENT = {
  extension: [{ url: "http://hl7.org/fhir/StructureDefinition/data-absent-reason", valueCode: "unknown" }],
};

const CLINICAL_STATUS_SYSTEM = {
  Condition: "http://terminology.hl7.org/CodeSystem/condition-clinical",
  AllergyIntolerance: "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
};
const VERIFICATION_STATUS_SYSTEM = {
  Condition: "http://terminology.hl7.org/CodeSystem/condition-ver-status",
  AllergyIntolerance: "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
};

/** A stable urn:uuid for a resource key, so the same canonical input gives the same Bundle. */
function urnFor(key: string): string {
  const h = createHash("sha256").update(key).digest("hex");
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A reference usable in any typed Reference field (the target type is only a phantom). */
type Ref = Reference<never>;

/** Collects the entries of the Bundle being built; references point at fullUrls of entries present. */
class BundleBuilder {
  readonly entries: BundleEntry[] = [];
  private readonly fullUrls = new Map<string, string>();

  /** Adds a resource under a key (`Type/id`); without a key (no id) it gets no fullUrl and cannot be referenced. */
  add(resource: Resource, key: string | undefined): string {
    if (key === undefined) {
      this.entries.push({ resource });
      return "";
    }
    const existing = this.fullUrls.get(key);
    if (existing !== undefined) return existing;
    const fullUrl = urnFor(key);
    this.fullUrls.set(key, fullUrl);
    this.entries.push({ fullUrl, resource });
    return fullUrl;
  }

  has(key: string): boolean {
    return this.fullUrls.has(key);
  }

  /** A reference to `type/id`: the entry's fullUrl when it is in the Bundle, else a relative reference. */
  ref(type: string, id: string): Ref | undefined {
    if (!id) return undefined;
    const fullUrl = this.fullUrls.get(`${type}/${id}`);
    if (fullUrl !== undefined) return { reference: fullUrl };
    const valid = fhirId(id);
    return valid !== undefined
      ? { reference: `${type}/${valid}` }
      : { identifier: { value: id }, type: type as Resource["resourceType"] };
  }

  /**
   * A canonical Practitioner as a Practitioner entry (identifiers, name, telecom); with a role it
   * is wrapped in a PractitionerRole (code = role), which is what the FHIR side reads the role from.
   */
  practitioner(p: Practitioner | undefined): Ref | undefined {
    if (p === undefined) return undefined;
    const body = compact<FhirPractitioner>({
      resourceType: "Practitioner",
      identifier: p.identifiers.map(identifierToFhir),
      name: p.name !== undefined ? [nameToFhir(p.name)] : undefined,
      telecom: p.telecom.map(telecomToFhir),
    });
    const practitionerUrl = this.add(body, `Practitioner#${JSON.stringify(body)}`);
    if (p.role === undefined) return { reference: practitionerUrl };
    const role: FhirPractitionerRole = {
      resourceType: "PractitionerRole",
      practitioner: { reference: practitionerUrl },
      code: [conceptFromCode(p.role) ?? {}],
    };
    return { reference: this.add(role, `PractitionerRole#${JSON.stringify(role)}`) };
  }
}

function idFields(id: string): { id?: string; identifier?: { value: string }[] } {
  if (!id) return {};
  const valid = fhirId(id);
  return valid !== undefined ? { id: valid } : { identifier: [{ value: id }] };
}

function statusConcept(system: string, code: string | undefined) {
  return code === undefined ? undefined : { coding: [{ system, code }] };
}

/**
 * Canonical envelope bodies → one FHIR R4 `collection` Bundle: each Patient once (by local
 * id), and the clinical entries of RecordTransfers and ReferralPackets with references to
 * their patient, encounter and practitioners as `urn:uuid:` fullUrls. Bodies without
 * patient content (requests, receipts, alerts) add nothing.
 */
export function canonicalToFhir(bodies: readonly EnvelopeBody[]): Bundle {
  const b = new BundleBuilder();
  const addPatient = (p: Patient | undefined): void => {
    if (p === undefined) return;
    if (!p.localPatientId) b.add(patientToFhir(p), undefined);
    else if (!b.has(`Patient/${p.localPatientId}`)) b.add(patientToFhir(p), `Patient/${p.localPatientId}`);
  };
  for (const body of bodies) {
    switch (body.$case) {
      case "patientAnnouncement":
        addPatient(body.value.patient);
        break;
      case "recordTransfer":
        addPatient(body.value.patient);
        for (const record of body.value.records) addRecord(b, record);
        break;
      case "referralPacket": {
        const v = body.value;
        addPatient(v.patient);
        addRecord(b, {
          sourceFacility: v.referringFacilityId,
          localPatientId: v.patient?.localPatientId ?? "",
          encounters: [],
          observations: v.results,
          conditions: v.problems,
          allergies: v.allergies,
          medications: v.medications,
          procedures: [],
          immunizations: [],
          documents: v.attachments,
        });
        break;
      }
      default:
        break;
    }
  }
  return { resourceType: "Bundle", type: "collection", entry: b.entries };
}

function addRecord(b: BundleBuilder, record: ClinicalRecord): void {
  const subject = b.ref("Patient", record.localPatientId);
  const withKey = (type: string, id: string, resource: Resource) =>
    b.add(resource, id ? `${type}/${id}` : undefined);
  // Encounters first, so that later entries reference them by fullUrl.
  record.encounters.forEach((e) => withKey("Encounter", e.id, encounterToFhir(b, e, subject)));
  record.observations.forEach((o) => withKey("Observation", o.id, observationToFhir(b, o, subject)));
  record.conditions.forEach((c) => withKey("Condition", c.id, conditionToFhir(b, c, subject)));
  record.allergies.forEach((a) => withKey("AllergyIntolerance", a.id, allergyToFhir(b, a, subject)));
  record.medications.forEach((m) => withKey("MedicationStatement", m.id, medicationToFhir(b, m, subject)));
  record.procedures.forEach((p) => withKey("Procedure", p.id, procedureToFhir(b, p, subject)));
  record.immunizations.forEach((i) => withKey("Immunization", i.id, immunizationToFhir(b, i, subject)));
  record.documents.forEach((d) => withKey("DocumentReference", d.id, documentToFhir(b, d, subject)));
}

function encounterToFhir(b: BundleBuilder, e: Encounter, subject: Ref | undefined): FhirEncounter {
  return compact<FhirEncounter>({
    resourceType: "Encounter",
    ...idFields(e.id),
    status: (toTable(ENCOUNTER_STATUS, e.status) ?? "unknown") as FhirEncounter["status"],
    class: e.classCode !== undefined ? codingFromCode(e.classCode) : ABSENT,
    type: e.type !== undefined ? [conceptFromCode(e.type) ?? {}] : undefined,
    subject,
    participant: e.participants.map((p) => ({ individual: b.practitioner(p) ?? {} })),
    period: periodToFhir(e.period),
    reasonCode: conceptsFromCodes(e.reasons),
    hospitalization:
      e.dischargeDisposition !== undefined
        ? { dischargeDisposition: conceptFromCode(e.dischargeDisposition) ?? {} }
        : undefined,
    location: e.location ? [{ location: { display: e.location } }] : undefined,
  });
}

function observationValue(o: Observation): Partial<FhirObservation> {
  switch (o.value?.$case) {
    case "valueQuantity":
      return { valueQuantity: quantityToFhir(o.value.value) ?? {} };
    case "valueCode":
      return { valueCodeableConcept: conceptFromCode(o.value.value) ?? {} };
    case "valueString":
      return { valueString: o.value.value };
    case "valueBoolean":
      return { valueBoolean: o.value.value };
    case "valueInteger":
      return { valueInteger: Number(o.value.value) };
    case "valueDateTime":
      return { valueDateTime: o.value.value.toISOString() };
    case undefined:
      return {};
  }
}

function observationToFhir(b: BundleBuilder, o: Observation, subject: Ref | undefined): FhirObservation {
  return compact<FhirObservation>({
    resourceType: "Observation",
    ...idFields(o.id),
    basedOn: o.orderId ? [b.ref("ServiceRequest", o.orderId) ?? {}] : undefined,
    status: (toTable(OBSERVATION_STATUS, o.status) ?? "unknown") as FhirObservation["status"],
    category: conceptsFromCodes(o.categories),
    code: conceptFromCode(o.code) ?? ABSENT,
    subject,
    encounter: b.ref("Encounter", o.encounterId),
    effectiveDateTime: fromInstant(o.effectiveAt),
    issued: fromInstant(o.issuedAt),
    performer: o.performers.map((p) => b.practitioner(p) ?? {}),
    ...observationValue(o),
    interpretation: conceptsFromCodes(o.interpretations),
    note: notesToFhir(o.notes),
    method: conceptFromCode(o.method),
    referenceRange: o.referenceRanges.map((r) =>
      compact<ObservationReferenceRange>({
        low: quantityToFhir(r.low),
        high: quantityToFhir(r.high),
        appliesTo: conceptsFromCodes(r.appliesTo),
        text: r.text,
      }),
    ),
  });
}

function conditionToFhir(b: BundleBuilder, c: Condition, subject: Ref | undefined): FhirCondition {
  const onset = fromPartialDate(c.onset);
  const abatement = fromPartialDate(c.abatement);
  return compact<FhirCondition>({
    resourceType: "Condition",
    ...idFields(c.id),
    clinicalStatus: statusConcept(
      CLINICAL_STATUS_SYSTEM.Condition,
      toTable(CLINICAL_STATUS, c.clinicalStatus),
    ),
    verificationStatus: statusConcept(
      VERIFICATION_STATUS_SYSTEM.Condition,
      toTable(VERIFICATION_STATUS, c.verificationStatus),
    ),
    category: conceptsFromCodes(c.categories),
    severity: conceptFromCode(c.severity),
    code: conceptFromCode(c.code),
    subject: subject ?? {},
    encounter: b.ref("Encounter", c.encounterId),
    onsetDateTime: onset,
    abatementDateTime: abatement,
    recordedDate: fromInstant(c.recordedAt),
    asserter: b.practitioner(c.asserter),
    note: notesToFhir(c.notes),
  });
}

function allergyToFhir(b: BundleBuilder, a: AllergyIntolerance, patient: Ref | undefined): FhirAllergy {
  return compact<FhirAllergy>({
    resourceType: "AllergyIntolerance",
    ...idFields(a.id),
    clinicalStatus: statusConcept(
      CLINICAL_STATUS_SYSTEM.AllergyIntolerance,
      toTable(CLINICAL_STATUS, a.clinicalStatus),
    ),
    verificationStatus: statusConcept(
      VERIFICATION_STATUS_SYSTEM.AllergyIntolerance,
      toTable(VERIFICATION_STATUS, a.verificationStatus),
    ),
    type: toTable(ALLERGY_TYPE, a.type) as FhirAllergy["type"],
    category: a.categories
      .map((c) => toTable(ALLERGY_CATEGORY, c))
      .filter((c) => c !== undefined) as FhirAllergy["category"],
    criticality: toTable(ALLERGY_CRITICALITY, a.criticality) as FhirAllergy["criticality"],
    code: conceptFromCode(a.code),
    patient: patient ?? {},
    onsetDateTime: fromPartialDate(a.onset),
    recordedDate: fromInstant(a.recordedAt),
    note: notesToFhir(a.notes),
    reaction: a.reactions.map((r) =>
      compact<AllergyIntoleranceReaction>({
        substance: conceptFromCode(r.substance),
        manifestation: conceptsFromCodes(r.manifestations),
        description: r.description,
        onset: fromPartialDate(r.onset),
        severity: toTable(REACTION_SEVERITY, r.severity) as AllergyIntoleranceReaction["severity"],
      }),
    ),
  });
}

function medicationToFhir(
  b: BundleBuilder,
  m: MedicationStatement,
  subject: Ref | undefined,
): FhirMedicationStatement {
  const start = fromInstant(m.effective?.start);
  const dosage = compact<Dosage>({
    text: m.dosageText,
    timing: m.frequency ? { code: { text: m.frequency } } : undefined,
    route: conceptFromCode(m.route),
    doseAndRate: m.dose !== undefined ? [{ doseQuantity: quantityToFhir(m.dose) ?? {} }] : undefined,
  });
  return compact<FhirMedicationStatement>({
    resourceType: "MedicationStatement",
    ...idFields(m.id),
    status: (toTable(MEDICATION_STATUS, m.status) ?? "unknown") as FhirMedicationStatement["status"],
    medicationCodeableConcept: conceptFromCode(m.medication) ?? ABSENT,
    subject: subject ?? {},
    // A period with only a start is written as effectiveDateTime, which reads back the same.
    effectiveDateTime: m.effective?.end === undefined ? start : undefined,
    effectivePeriod: m.effective?.end !== undefined ? periodToFhir(m.effective) : undefined,
    dateAsserted: fromInstant(m.assertedAt),
    informationSource: b.practitioner(m.prescriber),
    reasonCode: conceptsFromCodes(m.reasons),
    note: notesToFhir(m.notes),
    dosage: Object.keys(dosage).length > 0 ? [dosage] : undefined,
  });
}

function procedureToFhir(b: BundleBuilder, p: Procedure, subject: Ref | undefined): FhirProcedure {
  const performed = p.performed;
  return compact<FhirProcedure>({
    resourceType: "Procedure",
    ...idFields(p.id),
    status: (toTable(PROCEDURE_STATUS, p.status) ?? "unknown") as FhirProcedure["status"],
    code: conceptFromCode(p.code),
    subject: subject ?? {},
    encounter: b.ref("Encounter", p.encounterId),
    performedDateTime: performed?.end === undefined ? fromInstant(performed?.start) : undefined,
    performedPeriod: performed?.end !== undefined ? periodToFhir(performed) : undefined,
    performer: p.performers.map((x) => ({ actor: b.practitioner(x) ?? {} })),
    reasonCode: conceptsFromCodes(p.reasons),
    bodySite: conceptsFromCodes(p.bodySites),
    outcome: conceptFromCode(p.outcome),
    note: notesToFhir(p.notes),
  });
}

function immunizationToFhir(b: BundleBuilder, i: Immunization, patient: Ref | undefined): FhirImmunization {
  const maker = i.manufacturer;
  return compact<FhirImmunization>({
    resourceType: "Immunization",
    ...idFields(i.id),
    status: (toTable(IMMUNIZATION_STATUS, i.status) ?? "completed") as FhirImmunization["status"],
    statusReason: conceptFromCode(i.statusReason),
    vaccineCode: conceptFromCode(i.vaccineCode) ?? ABSENT,
    patient: patient ?? {},
    occurrenceDateTime: fromInstant(i.occurredAt),
    primarySource: i.primarySource,
    manufacturer:
      maker !== undefined
        ? compact<Ref>({
            identifier: maker.code
              ? compact<FhirIdentifier>({ system: maker.system, value: maker.code })
              : undefined,
            display: maker.display,
          })
        : undefined,
    lotNumber: i.lotNumber,
    site: conceptFromCode(i.site),
    route: conceptFromCode(i.route),
    doseQuantity: quantityToFhir(i.dose),
    performer: i.performers.map((p) => ({ actor: b.practitioner(p) ?? {} })),
  });
}

function documentToFhir(b: BundleBuilder, d: Document, subject: Ref | undefined): FhirDocumentReference {
  const content = d.content;
  const attachment = compact<Attachment>({
    contentType: d.mediaType,
    language: d.language,
    data: content?.$case === "inline" ? Buffer.from(content.value).toString("base64") : undefined,
    url: content?.$case === "attachment" ? content.value.key || undefined : undefined,
    size: content?.$case === "attachment" && content.value.size > 0n ? Number(content.value.size) : undefined,
    // R4 Attachment.hash is SHA-1; the canonical SHA-256 is written only where it came from (a url reference).
    hash:
      content?.$case === "attachment" && content.value.sha256.length === 32
        ? Buffer.from(content.value.sha256).toString("base64")
        : undefined,
    title: d.title,
    creation: fromInstant(d.createdAt),
  });
  return compact<FhirDocumentReference>({
    resourceType: "DocumentReference",
    ...idFields(d.id),
    masterIdentifier: d.id ? { value: d.id } : undefined,
    status: (toTable(DOCUMENT_STATUS, d.status) ?? "current") as FhirDocumentReference["status"],
    type: conceptFromCode(d.type),
    subject,
    author: d.authors.map((a) => b.practitioner(a) ?? {}),
    description: d.title,
    content: [{ attachment }],
    context: d.encounterId ? { encounter: [b.ref("Encounter", d.encounterId) ?? {}] } : undefined,
  });
}
