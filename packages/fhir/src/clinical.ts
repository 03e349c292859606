// FHIR R4 clinical resources → canonical ClinicalRecord entries. One function per
// resource; field tables and the reasons for each choice: docs/mappings/fhir-r4.md.
import type {
  AllergyIntolerance as FhirAllergy,
  Condition as FhirCondition,
  DocumentReference as FhirDocumentReference,
  Encounter as FhirEncounter,
  Immunization as FhirImmunization,
  MedicationRequest as FhirMedicationRequest,
  MedicationStatement as FhirMedicationStatement,
  Observation as FhirObservation,
  Procedure as FhirProcedure,
  Resource,
} from "@medplum/fhirtypes";
import {
  AllergyCategory,
  AllergyCriticality,
  AllergyIntoleranceType,
  ClinicalStatus,
  ConversionError,
  DocumentStatus,
  EncounterStatus,
  ImmunizationStatus,
  MedicationStatus,
  ObservationStatus,
  ProcedureStatus,
  ReactionSeverity,
  VerificationStatus,
  type AllergyIntolerance,
  type AllergyReaction,
  type Code,
  type Condition,
  type Document,
  type Encounter,
  type Immunization,
  type MedicationStatement,
  type Observation,
  type Procedure,
  type ReferenceRange,
} from "@hix/proto";
import { toInstant, toPartialDate } from "./dates.js";
import { localId, referencedId, resolve, warn, type MapContext } from "./context.js";
import type { Entry } from "./bundle.js";
import {
  codeFromConcept,
  codeFromCoding,
  codesFromConcepts,
  conceptCode,
  fromTable,
  notesFromFhir,
  periodFromFhir,
  quantityFromFhir,
  type CodeTable,
} from "./datatypes.js";
import { practitionerFromReference, practitionersFromReferences } from "./practitioner.js";
import { isObject, list, num, optStr, str } from "./values.js";

export const ENCOUNTER_STATUS: CodeTable<EncounterStatus> = {
  planned: EncounterStatus.PLANNED,
  arrived: EncounterStatus.ARRIVED,
  "in-progress": EncounterStatus.IN_PROGRESS,
  finished: EncounterStatus.FINISHED,
  cancelled: EncounterStatus.CANCELLED,
  "entered-in-error": EncounterStatus.ENTERED_IN_ERROR,
  // R4 codes without a canonical value of their own: the nearest one.
  triaged: EncounterStatus.ARRIVED,
  onleave: EncounterStatus.IN_PROGRESS,
  unknown: EncounterStatus.UNSPECIFIED,
};

export const OBSERVATION_STATUS: CodeTable<ObservationStatus> = {
  registered: ObservationStatus.REGISTERED,
  preliminary: ObservationStatus.PRELIMINARY,
  final: ObservationStatus.FINAL,
  amended: ObservationStatus.AMENDED,
  corrected: ObservationStatus.CORRECTED,
  cancelled: ObservationStatus.CANCELLED,
  "entered-in-error": ObservationStatus.ENTERED_IN_ERROR,
  unknown: ObservationStatus.UNSPECIFIED,
};

export const CLINICAL_STATUS: CodeTable<ClinicalStatus> = {
  active: ClinicalStatus.ACTIVE,
  recurrence: ClinicalStatus.RECURRENCE,
  relapse: ClinicalStatus.RELAPSE,
  inactive: ClinicalStatus.INACTIVE,
  remission: ClinicalStatus.REMISSION,
  resolved: ClinicalStatus.RESOLVED,
};

export const VERIFICATION_STATUS: CodeTable<VerificationStatus> = {
  unconfirmed: VerificationStatus.UNCONFIRMED,
  provisional: VerificationStatus.PROVISIONAL,
  differential: VerificationStatus.DIFFERENTIAL,
  confirmed: VerificationStatus.CONFIRMED,
  refuted: VerificationStatus.REFUTED,
  "entered-in-error": VerificationStatus.ENTERED_IN_ERROR,
  // AllergyIntolerance uses "presumed" in some pre-R4 feeds; R4 has none, it is left unspecified.
};

export const ALLERGY_TYPE: CodeTable<AllergyIntoleranceType> = {
  allergy: AllergyIntoleranceType.ALLERGY,
  intolerance: AllergyIntoleranceType.INTOLERANCE,
};

export const ALLERGY_CATEGORY: CodeTable<AllergyCategory> = {
  food: AllergyCategory.FOOD,
  medication: AllergyCategory.MEDICATION,
  environment: AllergyCategory.ENVIRONMENT,
  biologic: AllergyCategory.BIOLOGIC,
};

export const ALLERGY_CRITICALITY: CodeTable<AllergyCriticality> = {
  low: AllergyCriticality.LOW,
  high: AllergyCriticality.HIGH,
  "unable-to-assess": AllergyCriticality.UNABLE_TO_ASSESS,
};

export const REACTION_SEVERITY: CodeTable<ReactionSeverity> = {
  mild: ReactionSeverity.MILD,
  moderate: ReactionSeverity.MODERATE,
  severe: ReactionSeverity.SEVERE,
};

export const MEDICATION_STATUS: CodeTable<MedicationStatus> = {
  active: MedicationStatus.ACTIVE,
  completed: MedicationStatus.COMPLETED,
  "entered-in-error": MedicationStatus.ENTERED_IN_ERROR,
  intended: MedicationStatus.INTENDED,
  stopped: MedicationStatus.STOPPED,
  "on-hold": MedicationStatus.ON_HOLD,
  unknown: MedicationStatus.UNKNOWN,
  "not-taken": MedicationStatus.NOT_TAKEN,
};

/** MedicationRequest.status (medicationrequest-status) read as a statement status. */
const MEDICATION_REQUEST_STATUS: CodeTable<MedicationStatus> = {
  active: MedicationStatus.ACTIVE,
  "on-hold": MedicationStatus.ON_HOLD,
  cancelled: MedicationStatus.STOPPED,
  completed: MedicationStatus.COMPLETED,
  "entered-in-error": MedicationStatus.ENTERED_IN_ERROR,
  stopped: MedicationStatus.STOPPED,
  draft: MedicationStatus.INTENDED,
  unknown: MedicationStatus.UNKNOWN,
};

export const PROCEDURE_STATUS: CodeTable<ProcedureStatus> = {
  preparation: ProcedureStatus.PREPARATION,
  "in-progress": ProcedureStatus.IN_PROGRESS,
  "not-done": ProcedureStatus.NOT_DONE,
  "on-hold": ProcedureStatus.ON_HOLD,
  stopped: ProcedureStatus.STOPPED,
  completed: ProcedureStatus.COMPLETED,
  "entered-in-error": ProcedureStatus.ENTERED_IN_ERROR,
  unknown: ProcedureStatus.UNSPECIFIED,
};

export const IMMUNIZATION_STATUS: CodeTable<ImmunizationStatus> = {
  completed: ImmunizationStatus.COMPLETED,
  "entered-in-error": ImmunizationStatus.ENTERED_IN_ERROR,
  "not-done": ImmunizationStatus.NOT_DONE,
};

export const DOCUMENT_STATUS: CodeTable<DocumentStatus> = {
  current: DocumentStatus.CURRENT,
  superseded: DocumentStatus.SUPERSEDED,
  "entered-in-error": DocumentStatus.ENTERED_IN_ERROR,
};

function first<T>(items: unknown): T | undefined {
  return list(items)[0] as T | undefined;
}

// ---------------------------------------------------------------------------------------------

export function encounterFromFhir(ctx: MapContext, entry: Entry): Encounter {
  const r = entry.resource as FhirEncounter;
  const at = entry.path;
  const e: Encounter = {
    id: localId(r, entry.fullUrl),
    status: fromTable(ctx, ENCOUNTER_STATUS, r.status, `${at}.status`, EncounterStatus.UNSPECIFIED),
    participants: practitionersFromReferences(ctx, r.participant, `${at}.participant`, (p) => ({
      actor: p["individual"],
      role: p["type"],
    })),
    reasons: codesFromConcepts(r.reasonCode),
    location: "",
  };
  const cls = codeFromCoding(r.class);
  if (cls !== undefined) e.classCode = cls;
  const type = codeFromConcept(first(r.type));
  if (type !== undefined) e.type = type;
  const period = periodFromFhir(r.period, `${at}.period`);
  if (period !== undefined) e.period = period;
  const loc = first<Record<string, unknown>>(r.location);
  if (isObject(loc)) e.location = referenceText(ctx, loc["location"], "name");
  const disposition = codeFromConcept(
    isObject(r.hospitalization) ? r.hospitalization.dischargeDisposition : undefined,
  );
  if (disposition !== undefined) e.dischargeDisposition = disposition;
  return e;
}

/** A referenced resource's name (Location.name, Organization.name), else the reference's display. */
function referenceText(ctx: MapContext, reference: unknown, field: string): string {
  const target = resolve(ctx, reference);
  if (target?.kind === "entry") {
    const name = str((target.entry.resource as unknown as Record<string, unknown>)[field]);
    if (name) return name;
  }
  return isObject(reference) ? str(reference["display"]) : "";
}

// ---------------------------------------------------------------------------------------------

type ObservationValue = Observation["value"];

/** Observation.value[x] / component.value[x]; kinds with no canonical case are reported. */
function observationValue(ctx: MapContext, r: Record<string, unknown>, at: string): ObservationValue {
  if (r["valueQuantity"] !== undefined) {
    const q = quantityFromFhir(r["valueQuantity"]);
    return q && { $case: "valueQuantity", value: q };
  }
  if (r["valueCodeableConcept"] !== undefined) {
    const c = codeFromConcept(r["valueCodeableConcept"]);
    return c && { $case: "valueCode", value: c };
  }
  if (typeof r["valueString"] === "string") return { $case: "valueString", value: r["valueString"] };
  if (typeof r["valueBoolean"] === "boolean") return { $case: "valueBoolean", value: r["valueBoolean"] };
  if (typeof r["valueInteger"] === "number" && Number.isInteger(r["valueInteger"])) {
    return { $case: "valueInteger", value: BigInt(r["valueInteger"]) };
  }
  if (r["valueDateTime"] !== undefined) {
    return { $case: "valueDateTime", value: toInstant(r["valueDateTime"], `${at}.valueDateTime`) };
  }
  for (const kind of [
    "valuePeriod",
    "valueRange",
    "valueRatio",
    "valueSampledData",
    "valueTime",
    "valueInteger",
  ]) {
    if (r[kind] !== undefined) {
      warn(ctx, "fhir.value_not_mapped", `${at}.${kind}`, `${kind} has no canonical form; value not carried`);
    }
  }
  return undefined;
}

function referenceRanges(items: unknown): ReferenceRange[] {
  const out: ReferenceRange[] = [];
  for (const rr of list(items)) {
    if (!isObject(rr)) continue;
    const range: ReferenceRange = { text: str(rr["text"]), appliesTo: codesFromConcepts(rr["appliesTo"]) };
    const low = quantityFromFhir(rr["low"]);
    const high = quantityFromFhir(rr["high"]);
    if (low !== undefined) range.low = low;
    if (high !== undefined) range.high = high;
    out.push(range);
  }
  return out;
}

/**
 * An Observation, plus one canonical Observation per component (blood pressure's
 * systolic and diastolic): the canonical model has no components, so each becomes its
 * own result with id `<observation id>.<n>` (n from 1), its own code, value,
 * interpretation and ranges, and the parent's status, category, times and links.
 */
export function observationsFromFhir(ctx: MapContext, entry: Entry): Observation[] {
  const r = entry.resource as FhirObservation;
  const raw = r as unknown as Record<string, unknown>;
  const at = entry.path;
  const o: Observation = {
    id: localId(r, entry.fullUrl),
    status: fromTable(ctx, OBSERVATION_STATUS, r.status, `${at}.status`, ObservationStatus.UNSPECIFIED),
    categories: codesFromConcepts(r.category),
    referenceRanges: referenceRanges(r.referenceRange),
    interpretations: codesFromConcepts(r.interpretation),
    performers: practitionersFromReferences(ctx, r.performer, `${at}.performer`, (p) => ({ actor: p })),
    notes: notesFromFhir(r.note),
    encounterId: referencedId(ctx, r.encounter),
    orderId: referencedId(ctx, first(r.basedOn)),
  };
  const code = codeFromConcept(r.code);
  if (code !== undefined) o.code = code;
  if (raw["effectiveDateTime"] !== undefined)
    o.effectiveAt = toInstant(raw["effectiveDateTime"], `${at}.effectiveDateTime`);
  else if (raw["effectiveInstant"] !== undefined) {
    o.effectiveAt = toInstant(raw["effectiveInstant"], `${at}.effectiveInstant`, "instant");
  } else if (isObject(raw["effectivePeriod"])) {
    const p = periodFromFhir(raw["effectivePeriod"], `${at}.effectivePeriod`);
    if (p?.start !== undefined) o.effectiveAt = p.start;
  }
  if (r.issued !== undefined) o.issuedAt = toInstant(r.issued, `${at}.issued`, "instant");
  const method = codeFromConcept(r.method);
  if (method !== undefined) o.method = method;
  const value = observationValue(ctx, raw, at);
  if (value !== undefined) o.value = value;
  const out = [o];
  list(r.component).forEach((c, n) => {
    if (!isObject(c)) return;
    const cat = `${at}.component[${n}]`;
    const component: Observation = {
      ...o,
      id: o.id ? `${o.id}.${n + 1}` : "",
      referenceRanges: referenceRanges(c["referenceRange"]),
      interpretations: codesFromConcepts(c["interpretation"]),
      notes: [],
    };
    delete component.value;
    delete component.code;
    const cc = codeFromConcept(c["code"]);
    if (cc !== undefined) component.code = cc;
    const cv = observationValue(ctx, c, cat);
    if (cv !== undefined) component.value = cv;
    out.push(component);
  });
  return out;
}

// ---------------------------------------------------------------------------------------------

/** onset[x] / abatement[x] as a PartialDate: dateTime, or Period.start; Age, Range and string are not carried. */
function partialFrom(
  raw: Record<string, unknown>,
  field: string,
  at: string,
): { date?: ReturnType<typeof toPartialDate> } {
  if (raw[`${field}DateTime`] !== undefined) {
    return { date: toPartialDate(raw[`${field}DateTime`], `${at}.${field}DateTime`, "dateTime") };
  }
  const period = raw[`${field}Period`];
  if (isObject(period) && period["start"] !== undefined) {
    return { date: toPartialDate(period["start"], `${at}.${field}Period.start`, "dateTime") };
  }
  return {};
}

export function conditionFromFhir(ctx: MapContext, entry: Entry): Condition {
  const r = entry.resource as FhirCondition;
  const raw = r as unknown as Record<string, unknown>;
  const at = entry.path;
  const c: Condition = {
    id: localId(r, entry.fullUrl),
    clinicalStatus: fromTable(
      ctx,
      CLINICAL_STATUS,
      conceptCode(r.clinicalStatus),
      `${at}.clinicalStatus`,
      ClinicalStatus.UNSPECIFIED,
    ),
    verificationStatus: fromTable(
      ctx,
      VERIFICATION_STATUS,
      conceptCode(r.verificationStatus),
      `${at}.verificationStatus`,
      VerificationStatus.UNSPECIFIED,
    ),
    categories: codesFromConcepts(r.category),
    notes: notesFromFhir(r.note),
    encounterId: referencedId(ctx, r.encounter),
  };
  const code = codeFromConcept(r.code);
  if (code !== undefined) c.code = code;
  const severity = codeFromConcept(r.severity);
  if (severity !== undefined) c.severity = severity;
  const onset = partialFrom(raw, "onset", at).date;
  if (onset !== undefined) c.onset = onset;
  const abatement = partialFrom(raw, "abatement", at).date;
  if (abatement !== undefined) c.abatement = abatement;
  if (r.recordedDate !== undefined) c.recordedAt = toInstant(r.recordedDate, `${at}.recordedDate`);
  const asserter = practitionerFromReference(ctx, r.asserter, `${at}.asserter`);
  if (asserter !== undefined) c.asserter = asserter;
  return c;
}

// ---------------------------------------------------------------------------------------------

export function allergyFromFhir(ctx: MapContext, entry: Entry): AllergyIntolerance {
  const r = entry.resource as FhirAllergy;
  const raw = r as unknown as Record<string, unknown>;
  const at = entry.path;
  const a: AllergyIntolerance = {
    id: localId(r, entry.fullUrl),
    type: fromTable(ctx, ALLERGY_TYPE, r.type, `${at}.type`, AllergyIntoleranceType.UNSPECIFIED),
    categories: list(r.category)
      .map((c, n) => fromTable(ctx, ALLERGY_CATEGORY, c, `${at}.category[${n}]`, AllergyCategory.UNSPECIFIED))
      .filter((c) => c !== AllergyCategory.UNSPECIFIED),
    criticality: fromTable(
      ctx,
      ALLERGY_CRITICALITY,
      r.criticality,
      `${at}.criticality`,
      AllergyCriticality.UNSPECIFIED,
    ),
    clinicalStatus: fromTable(
      ctx,
      CLINICAL_STATUS,
      conceptCode(r.clinicalStatus),
      `${at}.clinicalStatus`,
      ClinicalStatus.UNSPECIFIED,
    ),
    verificationStatus: fromTable(
      ctx,
      VERIFICATION_STATUS,
      conceptCode(r.verificationStatus),
      `${at}.verificationStatus`,
      VerificationStatus.UNSPECIFIED,
    ),
    reactions: [],
    notes: notesFromFhir(r.note),
  };
  const code = codeFromConcept(r.code);
  if (code !== undefined) a.code = code;
  const onset = partialFrom(raw, "onset", at).date;
  if (onset !== undefined) a.onset = onset;
  if (r.recordedDate !== undefined) a.recordedAt = toInstant(r.recordedDate, `${at}.recordedDate`);
  list(r.reaction).forEach((x, n) => {
    if (!isObject(x)) return;
    const rat = `${at}.reaction[${n}]`;
    const reaction: AllergyReaction = {
      manifestations: codesFromConcepts(x["manifestation"]),
      severity: fromTable(
        ctx,
        REACTION_SEVERITY,
        x["severity"],
        `${rat}.severity`,
        ReactionSeverity.UNSPECIFIED,
      ),
      description: str(x["description"]),
    };
    const substance = codeFromConcept(x["substance"]);
    if (substance !== undefined) reaction.substance = substance;
    if (x["onset"] !== undefined) reaction.onset = toPartialDate(x["onset"], `${rat}.onset`, "dateTime");
    a.reactions.push(reaction);
  });
  return a;
}

// ---------------------------------------------------------------------------------------------

/** medication[x]: the CodeableConcept, or the code of a referenced Medication (in the Bundle or contained). */
function medicationCode(ctx: MapContext, raw: Record<string, unknown>): Code | undefined {
  if (raw["medicationCodeableConcept"] !== undefined)
    return codeFromConcept(raw["medicationCodeableConcept"]);
  const ref = raw["medicationReference"];
  const target = resolve(ctx, ref);
  const resource: Resource | undefined =
    target?.kind === "entry"
      ? target.entry.resource
      : target?.kind === "contained"
        ? target.resource
        : undefined;
  if (resource?.resourceType === "Medication") return codeFromConcept(resource.code);
  const display = isObject(ref) ? str(ref["display"]) : "";
  return display ? { system: "", code: "", display, version: "" } : undefined;
}

/** Dosage (R4 Dosage datatype): the first dosage instruction's dose, route, timing and text. */
function applyDosage(m: MedicationStatement, dosage: unknown): void {
  if (!isObject(dosage)) return;
  m.dosageText = str(dosage["text"]);
  const route = codeFromConcept(dosage["route"]);
  if (route !== undefined) m.route = route;
  const doseAndRate = first<Record<string, unknown>>(dosage["doseAndRate"]);
  const dose = isObject(doseAndRate) ? quantityFromFhir(doseAndRate["doseQuantity"]) : undefined;
  if (dose !== undefined) m.dose = dose;
  const timing = isObject(dosage["timing"]) ? dosage["timing"] : undefined;
  const timingCode = codeFromConcept(timing?.["code"]);
  const repeat = isObject(timing?.["repeat"]) ? timing["repeat"] : undefined;
  if (timingCode !== undefined) m.frequency = timingCode.code || timingCode.display;
  else if (repeat !== undefined && num(repeat["frequency"]) !== undefined) {
    // Timing.repeat frequency / period / periodUnit, e.g. "2 per 1 d".
    m.frequency =
      `${num(repeat["frequency"])} per ${num(repeat["period"]) ?? 1} ${str(repeat["periodUnit"])}`.trim();
  }
}

export function medicationStatementFromFhir(ctx: MapContext, entry: Entry): MedicationStatement {
  const r = entry.resource as FhirMedicationStatement;
  const raw = r as unknown as Record<string, unknown>;
  const at = entry.path;
  const m: MedicationStatement = {
    id: localId(r, entry.fullUrl),
    status: fromTable(ctx, MEDICATION_STATUS, r.status, `${at}.status`, MedicationStatus.UNSPECIFIED),
    frequency: "",
    dosageText: "",
    reasons: codesFromConcepts(r.reasonCode),
    notes: notesFromFhir(r.note),
  };
  const medication = medicationCode(ctx, raw);
  if (medication !== undefined) m.medication = medication;
  if (raw["effectiveDateTime"] !== undefined) {
    m.effective = { start: toInstant(raw["effectiveDateTime"], `${at}.effectiveDateTime`) };
  } else {
    const p = periodFromFhir(raw["effectivePeriod"], `${at}.effectivePeriod`);
    if (p !== undefined) m.effective = p;
  }
  if (r.dateAsserted !== undefined) m.assertedAt = toInstant(r.dateAsserted, `${at}.dateAsserted`);
  applyDosage(m, first(r.dosage));
  // informationSource is who stated the medication; when that is a clinician it is kept as the
  // prescriber (and canonical → FHIR writes the prescriber there), otherwise it is not carried.
  const source = practitionerFromReference(ctx, r.informationSource, `${at}.informationSource`);
  if (source !== undefined) m.prescriber = source;
  return m;
}

/**
 * A MedicationRequest read as a statement that the patient takes the medication, when
 * it is simple enough to say so: an order or plan (not a proposal or option) with a
 * known medication and at most one dosage instruction. Anything else is skipped with a
 * warning (undefined).
 */
export function medicationRequestFromFhir(ctx: MapContext, entry: Entry): MedicationStatement | undefined {
  const r = entry.resource as FhirMedicationRequest;
  const raw = r as unknown as Record<string, unknown>;
  const at = entry.path;
  const medication = medicationCode(ctx, raw);
  const intent = str(r.intent);
  if (
    intent === "proposal" ||
    intent === "option" ||
    medication === undefined ||
    list(r.dosageInstruction).length > 1
  ) {
    warn(
      ctx,
      "fhir.medication_request_not_simple",
      at,
      "MedicationRequest not read as a statement (proposal/option, no medication, or several dosages)",
    );
    return undefined;
  }
  const m: MedicationStatement = {
    id: localId(r, entry.fullUrl),
    medication,
    status: fromTable(ctx, MEDICATION_REQUEST_STATUS, r.status, `${at}.status`, MedicationStatus.UNSPECIFIED),
    frequency: "",
    dosageText: "",
    reasons: codesFromConcepts(r.reasonCode),
    notes: notesFromFhir(r.note),
  };
  if (r.authoredOn !== undefined) m.assertedAt = toInstant(r.authoredOn, `${at}.authoredOn`);
  applyDosage(m, first(r.dosageInstruction));
  const validity = isObject(r.dispenseRequest) ? r.dispenseRequest.validityPeriod : undefined;
  const effective = periodFromFhir(validity, `${at}.dispenseRequest.validityPeriod`);
  if (effective !== undefined) m.effective = effective;
  const prescriber = practitionerFromReference(ctx, r.requester, `${at}.requester`);
  if (prescriber !== undefined) m.prescriber = prescriber;
  return m;
}

// ---------------------------------------------------------------------------------------------

export function procedureFromFhir(ctx: MapContext, entry: Entry): Procedure {
  const r = entry.resource as FhirProcedure;
  const raw = r as unknown as Record<string, unknown>;
  const at = entry.path;
  const p: Procedure = {
    id: localId(r, entry.fullUrl),
    status: fromTable(ctx, PROCEDURE_STATUS, r.status, `${at}.status`, ProcedureStatus.UNSPECIFIED),
    performers: practitionersFromReferences(ctx, r.performer, `${at}.performer`, (x) => ({
      actor: x["actor"],
      role: x["function"],
    })),
    bodySites: codesFromConcepts(r.bodySite),
    reasons: codesFromConcepts(r.reasonCode),
    notes: notesFromFhir(r.note),
    encounterId: referencedId(ctx, r.encounter),
  };
  const code = codeFromConcept(r.code);
  if (code !== undefined) p.code = code;
  if (raw["performedDateTime"] !== undefined) {
    p.performed = { start: toInstant(raw["performedDateTime"], `${at}.performedDateTime`) };
  } else {
    const period = periodFromFhir(raw["performedPeriod"], `${at}.performedPeriod`);
    if (period !== undefined) p.performed = period;
  }
  const outcome = codeFromConcept(r.outcome);
  if (outcome !== undefined) p.outcome = outcome;
  return p;
}

// ---------------------------------------------------------------------------------------------

/** Immunization.manufacturer: the Organization's first identifier and name, else the reference's own. */
function manufacturer(ctx: MapContext, reference: unknown): Code | undefined {
  const target = resolve(ctx, reference);
  if (target === undefined) return undefined;
  if (target.kind === "entry" || target.kind === "contained") {
    const org = (target.kind === "entry" ? target.entry.resource : target.resource) as unknown as Record<
      string,
      unknown
    >;
    const id = first<Record<string, unknown>>(org["identifier"]);
    return { system: str(id?.["system"]), code: str(id?.["value"]), display: str(org["name"]), version: "" };
  }
  const display = isObject(reference) ? str(reference["display"]) : "";
  return {
    system: target.identifier?.system ?? "",
    code: target.identifier?.value ?? "",
    display,
    version: "",
  };
}

export function immunizationFromFhir(ctx: MapContext, entry: Entry): Immunization {
  const r = entry.resource as FhirImmunization;
  const raw = r as unknown as Record<string, unknown>;
  const at = entry.path;
  const i: Immunization = {
    id: localId(r, entry.fullUrl),
    status: fromTable(ctx, IMMUNIZATION_STATUS, r.status, `${at}.status`, ImmunizationStatus.UNSPECIFIED),
    lotNumber: str(r.lotNumber),
    performers: practitionersFromReferences(ctx, r.performer, `${at}.performer`, (x) => ({
      actor: x["actor"],
      role: x["function"],
    })),
    primarySource: r.primarySource === true,
  };
  const vaccine = codeFromConcept(r.vaccineCode);
  if (vaccine !== undefined) i.vaccineCode = vaccine;
  const reason = codeFromConcept(r.statusReason);
  if (reason !== undefined) i.statusReason = reason;
  if (raw["occurrenceDateTime"] !== undefined) {
    i.occurredAt = toInstant(raw["occurrenceDateTime"], `${at}.occurrenceDateTime`);
  } else if (raw["occurrenceString"] !== undefined) {
    warn(
      ctx,
      "fhir.value_not_mapped",
      `${at}.occurrenceString`,
      "occurrenceString has no canonical form; not carried",
    );
  }
  const dose = quantityFromFhir(r.doseQuantity);
  if (dose !== undefined) i.dose = dose;
  const maker = manufacturer(ctx, r.manufacturer);
  if (maker !== undefined) i.manufacturer = maker;
  const route = codeFromConcept(r.route);
  if (route !== undefined) i.route = route;
  const site = codeFromConcept(r.site);
  if (site !== undefined) i.site = site;
  return i;
}

// ---------------------------------------------------------------------------------------------

const BASE64 = /^[A-Za-z0-9+/\s]*={0,2}\s*$/;

/**
 * DocumentReference with its first content.attachment: inline `data` (base64) becomes the
 * document bytes; a `url` becomes an AttachmentRef whose bucket is empty and whose key is the
 * URL as the source gave it (an external location, not yet in the hix object store), with
 * size and hash when given. R4 Attachment.hash is SHA-1; only a 32-byte (SHA-256) hash fits
 * AttachmentRef.sha256, a SHA-1 is reported and not carried.
 */
export function documentFromFhir(ctx: MapContext, entry: Entry): Document {
  const r = entry.resource as FhirDocumentReference;
  const at = entry.path;
  const contents = list(r.content).filter(isObject);
  const attachment = isObject(contents[0]?.["attachment"]) ? contents[0]["attachment"] : {};
  const aat = `${at}.content[0].attachment`;
  const master = isObject(r.masterIdentifier) ? optStr(r.masterIdentifier.value) : undefined;
  const d: Document = {
    id: master ?? localId(r, entry.fullUrl),
    title: str(r.description) || str(attachment["title"]),
    status: fromTable(ctx, DOCUMENT_STATUS, r.status, `${at}.status`, DocumentStatus.UNSPECIFIED),
    authors: practitionersFromReferences(ctx, r.author, `${at}.author`, (x) => ({ actor: x })),
    mediaType: str(attachment["contentType"]),
    language: str(attachment["language"]),
    encounterId: referencedId(ctx, first(isObject(r.context) ? r.context.encounter : undefined)),
  };
  const type = codeFromConcept(r.type);
  if (type !== undefined) d.type = type;
  if (attachment["creation"] !== undefined)
    d.createdAt = toInstant(attachment["creation"], `${aat}.creation`);
  else if (r.date !== undefined) d.createdAt = toInstant(r.date, `${at}.date`, "instant");
  if (contents.length > 1) {
    warn(
      ctx,
      "fhir.extra_content_not_mapped",
      `${at}.content`,
      `${contents.length - 1} further content entries not carried`,
    );
  }
  const data = attachment["data"];
  if (typeof data === "string") {
    if (!BASE64.test(data))
      throw new ConversionError("fhir.invalid_base64", `${aat}.data`, "attachment data is not base64");
    d.content = { $case: "inline", value: Buffer.from(data, "base64") };
  } else if (typeof attachment["url"] === "string" && attachment["url"] !== "") {
    let sha256 = Buffer.alloc(0);
    if (typeof attachment["hash"] === "string") {
      const hash = Buffer.from(attachment["hash"], "base64");
      if (hash.length === 32) sha256 = hash;
      else
        warn(
          ctx,
          "fhir.hash_not_mapped",
          `${aat}.hash`,
          `${hash.length}-byte hash (SHA-1 in R4) not carried; SHA-256 expected`,
        );
    }
    const size = num(attachment["size"]);
    d.content = {
      $case: "attachment",
      value: {
        bucket: "",
        key: attachment["url"],
        sha256,
        size: size !== undefined && size >= 0 ? BigInt(Math.trunc(size)) : 0n,
        mediaType: d.mediaType,
      },
    };
  }
  return d;
}
