import { type Code, type ConversionWarning, MedicationStatement, MedicationStatus } from "@hix/proto";
import type { El } from "./xml.js";
import {
  readCode,
  readId,
  readInstant,
  readPeriod,
  readPractitioner,
  readQuantity,
  readTs,
} from "./datatypes.js";
import { entryStatements } from "./sections.js";

/** substanceAdministration statusCode (HL7 V3 ActStatus) → canonical status. */
const STATUSES: Record<string, MedicationStatus> = {
  active: MedicationStatus.ACTIVE,
  completed: MedicationStatus.COMPLETED,
  aborted: MedicationStatus.STOPPED,
  suspended: MedicationStatus.ON_HOLD,
  cancelled: MedicationStatus.NOT_TAKEN,
  nullified: MedicationStatus.ENTERED_IN_ERROR,
  new: MedicationStatus.INTENDED,
  held: MedicationStatus.ON_HOLD,
};

/**
 * Medications Section entries (Medication Activity 2.16.840.1.113883.10.20.22.4.16) →
 * MedicationStatements: consumable/manufacturedProduct/manufacturedMaterial/code → medication,
 * the IVL_TS effectiveTime → effective period, the PIVL_TS/EIVL_TS one → frequency,
 * doseQuantity → dose, routeCode → route, RSON entryRelationships → reasons.
 */
export function readMedications(section: El, warnings: ConversionWarning[]): MedicationStatement[] {
  const out: MedicationStatement[] = [];
  for (const sa of entryStatements(section, "substanceAdministration")) {
    const medication = readCode(sa.at("consumable", "manufacturedProduct", "manufacturedMaterial", "code"));
    if (medication === undefined) {
      warnings.push({
        code: "ccda.medication_without_code",
        location: sa.path,
        message: "medication activity has no coded or text medication; skipped",
      });
      continue;
    }
    const stmt = MedicationStatement.fromPartial({ id: readId(sa.one("id")), medication });
    const status = sa.one("statusCode")?.attr("code");
    stmt.status = (status !== undefined ? STATUSES[status] : undefined) ?? MedicationStatus.UNSPECIFIED;
    if (sa.attr("moodCode") === "INT" && stmt.status === MedicationStatus.ACTIVE)
      stmt.status = MedicationStatus.INTENDED;
    if (sa.attr("negationInd") === "true") stmt.status = MedicationStatus.NOT_TAKEN;
    for (const et of sa.all("effectiveTime")) {
      const type = et.xsiType;
      if (type === "PIVL_TS") {
        const period = et.one("period");
        const value = period?.attr("value");
        if (value !== undefined) stmt.frequency = `every ${value} ${period?.attr("unit") ?? ""}`.trim();
      } else if (type === "EIVL_TS") {
        const event = et.one("event")?.attr("code");
        if (event !== undefined) stmt.frequency = event;
      } else {
        const period = readPeriod(et);
        if (period !== undefined && stmt.effective === undefined) stmt.effective = period;
      }
    }
    const doseEl = sa.one("doseQuantity");
    const dose = readQuantity(doseEl) ?? readQuantity(doseEl?.one("low"));
    if (dose !== undefined) stmt.dose = dose;
    const route = readCode(sa.one("routeCode"));
    if (route !== undefined) stmt.route = route;
    const text = sa.one("text")?.text ?? "";
    if (text !== "") stmt.dosageText = text;
    stmt.reasons = sa
      .all("entryRelationship")
      .filter((r) => r.attr("typeCode") === "RSON")
      .flatMap((r) => relatedObservationsOf(r))
      .map((o) => readCode(o.one("value")))
      .filter((c): c is Code => c !== undefined);
    const author = sa.one("author");
    const asserted = readInstant(author?.one("time"));
    if (asserted !== undefined) stmt.assertedAt = asserted;
    const prescriber = readPractitioner(author?.one("assignedAuthor"));
    if (prescriber !== undefined) stmt.prescriber = prescriber;
    // Validate the supply order's dates too (refused when impossible), though not carried.
    for (const supply of sa.all("entryRelationship").map((r) => r.one("supply")))
      readTs(supply?.one("effectiveTime"));
    out.push(stmt);
  }
  return out;
}

function relatedObservationsOf(rel: El): El[] {
  const o = rel.one("observation");
  return o === undefined ? [] : [o];
}
