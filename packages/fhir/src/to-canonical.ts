import type { Patient as FhirPatient, Resource } from "@medplum/fhirtypes";
import {
  AdministrativeSex,
  AnnouncementKind,
  ConversionError,
  TransferOutcome,
  type ClinicalRecord,
  type Conversion,
  type ConversionWarning,
  type EnvelopeBody,
  type Patient,
  type PatientAnnouncement,
} from "@hix/proto";
import { asResource, flatten, ReferenceIndex, type Entry } from "./bundle.js";
import { resolve, type MapContext } from "./context.js";
import { toInstant } from "./dates.js";
import { parseFhirJson } from "./json.js";
import { patientFromFhir } from "./patient.js";
import {
  allergyFromFhir,
  conditionFromFhir,
  documentFromFhir,
  encounterFromFhir,
  immunizationFromFhir,
  medicationRequestFromFhir,
  medicationStatementFromFhir,
  observationsFromFhir,
  procedureFromFhir,
} from "./clinical.js";
import { isObject, str } from "./values.js";

export interface FhirToCanonicalOptions {
  /** hix id of the sending facility (Patient.source_facility, ClinicalRecord.source_facility). */
  facilityId?: string;
  /** Identifier.system of the facility's MRN; its value becomes Patient.local_patient_id. */
  mrnSystem?: string;
}

/** Where each mapped resource type finds its patient (R4 compartment link). */
const CLINICAL: Record<string, (ctx: MapContext, entry: Entry, record: ClinicalRecord) => void> = {
  Encounter: (ctx, e, rec) => rec.encounters.push(encounterFromFhir(ctx, e)),
  Observation: (ctx, e, rec) => rec.observations.push(...observationsFromFhir(ctx, e)),
  Condition: (ctx, e, rec) => rec.conditions.push(conditionFromFhir(ctx, e)),
  AllergyIntolerance: (ctx, e, rec) => rec.allergies.push(allergyFromFhir(ctx, e)),
  MedicationStatement: (ctx, e, rec) => rec.medications.push(medicationStatementFromFhir(ctx, e)),
  MedicationRequest: (ctx, e, rec) => {
    const m = medicationRequestFromFhir(ctx, e);
    if (m !== undefined) rec.medications.push(m);
  },
  Procedure: (ctx, e, rec) => rec.procedures.push(procedureFromFhir(ctx, e)),
  Immunization: (ctx, e, rec) => rec.immunizations.push(immunizationFromFhir(ctx, e)),
  DocumentReference: (ctx, e, rec) => rec.documents.push(documentFromFhir(ctx, e)),
};

/**
 * Resources that are not mapped on their own but are read when a reference points at
 * them (who performed, which medication, which location, which manufacturer).
 */
const CONTEXT_ONLY = new Set(["Practitioner", "PractitionerRole", "Organization", "Location", "Medication"]);

/** The patient a clinical resource belongs to: `patient` for AllergyIntolerance and Immunization, else `subject`. */
function subjectOf(resource: Resource): unknown {
  const r = resource as unknown as Record<string, unknown>;
  return r["patient"] ?? r["subject"];
}

interface Group {
  patient: Patient;
  /** The Patient entry, when the input has one. */
  entry: Entry | undefined;
  record: ClinicalRecord | undefined;
}

function emptyRecord(patient: Patient): ClinicalRecord {
  return {
    sourceFacility: patient.sourceFacility,
    localPatientId: patient.localPatientId,
    encounters: [],
    observations: [],
    conditions: [],
    allergies: [],
    medications: [],
    procedures: [],
    immunizations: [],
    documents: [],
  };
}

/**
 * Converts FHIR R4 JSON (text, or an already parsed value) — one resource or a Bundle of any type, Bundles
 * nested in Bundles included — to envelope bodies. Resources are grouped by the patient
 * they belong to: a Patient with clinical resources gives a RecordTransfer (push) with one
 * ClinicalRecord; a Patient alone gives a PatientAnnouncement (REGISTERED, or UPDATED for a
 * transaction PUT/PATCH or a meta.versionId other than 1). Clinical resources whose patient
 * is not in the input still travel, under a patient known only by the referenced id, with
 * a warning. Resource types not mapped are skipped with one warning per type.
 *
 * Throws ConversionError (location = JSON path or line/column) for invalid JSON, input that
 * is not a FHIR resource, and impossible dates; messages never carry input values.
 */
export function fhirToCanonical(json: unknown, options: FhirToCanonicalOptions = {}): Conversion {
  const value = typeof json === "string" ? parseFhirJson(json) : json;
  const root = asResource(value, "$");
  const rootPath = root.resourceType;
  const { entries, skipped } = flatten(root, rootPath);
  const warnings: ConversionWarning[] = skipped.map((s) => ({
    code: s.code,
    location: s.path,
    message: s.message,
  }));
  const index = new ReferenceIndex(entries);
  const facilityId = options.facilityId ?? "";
  const base = { index, warnings, mrnSystem: options.mrnSystem };
  const ctxFor = (resource: Resource | undefined): MapContext => ({ ...base, resource });

  const groups = new Map<Entry | string, Group>();
  const groupFor = (key: Entry | string, make: () => Patient, entry?: Entry): Group => {
    let g = groups.get(key);
    if (g === undefined) {
      g = { patient: make(), entry, record: undefined };
      groups.set(key, g);
    }
    return g;
  };
  const patients = index.ofType("Patient");
  for (const entry of patients) {
    guarded(entry, () =>
      groupFor(entry, () => patientFromFhir(ctxFor(entry.resource), entry, facilityId), entry),
    );
  }

  const unmapped = new Map<string, { count: number; location: string }>();
  for (const entry of entries) {
    const type = entry.resource.resourceType;
    if (type === "Patient") continue;
    const map = CLINICAL[type];
    if (map === undefined) {
      const seen = unmapped.get(type);
      if (seen) seen.count++;
      else unmapped.set(type, { count: 1, location: entry.path });
      continue;
    }
    const ctx = ctxFor(entry.resource);
    const group = guarded(entry, () => patientGroup(ctx, entry, patients, facilityId, groupFor));
    if (group === undefined) continue;
    group.record ??= emptyRecord(group.patient);
    const record = group.record;
    guarded(entry, () => map(ctx, entry, record));
  }
  for (const [type, { count, location }] of unmapped) {
    warnings.push({
      code: CONTEXT_ONLY.has(type) ? "fhir.context_resource" : "fhir.unsupported_resource",
      location,
      message: CONTEXT_ONLY.has(type)
        ? `${count} ${type} resource(s) used only to resolve references`
        : `${count} ${type} resource(s) skipped: type not mapped`,
    });
  }

  const bodies: EnvelopeBody[] = [];
  for (const group of groups.values()) {
    if (group.record !== undefined) {
      bodies.push({
        $case: "recordTransfer",
        value: {
          inReplyTo: "",
          patient: group.patient,
          records: [group.record],
          outcome: TransferOutcome.RECORDS,
          reason: "",
        },
      });
    } else if (group.entry !== undefined) {
      bodies.push({ $case: "patientAnnouncement", value: announcement(group.patient, group.entry) });
    }
  }
  return { bodies, warnings };
}

/** Runs one resource's mapping; anything but a ConversionError (a malformed structure) is reported at the resource. */
function guarded<T>(entry: Entry, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ConversionError) throw err;
    throw new ConversionError(
      "fhir.malformed",
      entry.path,
      `${entry.resource.resourceType} has an unexpected structure`,
      {
        cause: err,
      },
    );
  }
}

function patientGroup(
  ctx: MapContext,
  entry: Entry,
  patients: Entry[],
  facilityId: string,
  groupFor: (key: Entry | string, make: () => Patient, entry?: Entry) => Group,
): Group | undefined {
  const subject = subjectOf(entry.resource);
  const field =
    (entry.resource as unknown as Record<string, unknown>)["patient"] !== undefined ? "patient" : "subject";
  const target = resolve(ctx, subject);
  if (target?.kind === "entry") {
    if (target.entry.resource.resourceType === "Patient")
      return groupFor(target.entry, () => {
        throw new Error("patient group missing");
      });
    ctx.warnings.push({
      code: "fhir.subject_not_patient",
      location: `${entry.path}.${field}`,
      message: `subject is a ${target.entry.resource.resourceType}, not a Patient; resource skipped`,
    });
    return undefined;
  }
  if (target === undefined) {
    // No subject at all: only unambiguous when the input holds exactly one patient.
    const only = patients.length === 1 ? patients[0] : undefined;
    if (only !== undefined) return groups1(only, groupFor);
    ctx.warnings.push({
      code: "fhir.no_patient",
      location: `${entry.path}.${field}`,
      message: "no patient reference and no single Patient in the input; resource skipped",
    });
    return undefined;
  }
  if (target.kind === "contained" || (target.type !== undefined && target.type !== "Patient")) {
    ctx.warnings.push({
      code: "fhir.subject_not_patient",
      location: `${entry.path}.${field}`,
      message: "subject is not a Patient in the input; resource skipped",
    });
    return undefined;
  }
  const id = target.id ?? target.identifier?.value ?? "";
  const key = `Patient/${id}|${target.identifier?.system ?? ""}`;
  return groupFor(key, () => {
    ctx.warnings.push({
      code: "fhir.patient_not_in_input",
      location: `${entry.path}.${field}`,
      message: "referenced Patient is not in the input; records travel under the referenced id only",
    });
    return {
      sourceFacility: facilityId,
      localPatientId: id,
      identifiers: target.identifier
        ? [
            {
              value: target.identifier.value,
              system: target.identifier.system ?? "",
              assigner: "",
              typeCode: "",
            },
          ]
        : [],
      names: [],
      sex: AdministrativeSex.UNSPECIFIED,
      addresses: [],
      telecom: [],
      birthOrder: 0,
      mothersMaidenName: "",
    };
  });
}

function groups1(only: Entry, groupFor: (key: Entry | string, make: () => Patient) => Group): Group {
  return groupFor(only, () => {
    throw new Error("patient group missing");
  });
}

/** Patient without clinical content → announcement; create vs update from the transaction verb or meta.versionId. */
function announcement(patient: Patient, entry: Entry): PatientAnnouncement {
  const r = entry.resource as FhirPatient;
  const meta = isObject(r.meta) ? r.meta : undefined;
  const version = str(meta?.versionId);
  const updated = entry.method === "PUT" || entry.method === "PATCH" || (version !== "" && version !== "1");
  const result: PatientAnnouncement = {
    kind: updated ? AnnouncementKind.UPDATED : AnnouncementKind.REGISTERED,
    patient,
    retiredIds: [],
    sourceEvent: updated ? "fhir:Patient.update" : "fhir:Patient.create",
  };
  if (meta?.lastUpdated !== undefined) {
    result.occurredAt = toInstant(meta.lastUpdated, `${entry.path}.meta.lastUpdated`, "instant");
  }
  return result;
}
