import { ClinicalStatus, Condition, type ConversionWarning, VerificationStatus } from "@hix/proto";
import type { El } from "./xml.js";
import { readCode, readId, readInstant, readTs } from "./datatypes.js";
import { toPartialDate } from "./timestamp.js";
import { entryStatements, relatedObservations } from "./sections.js";

// C-CDA R2.1 templates: Problem Concern Act, Problem Observation, Problem Status.
const PROBLEM_OBSERVATION = "2.16.840.1.113883.10.20.22.4.4";
const PROBLEM_STATUS = "2.16.840.1.113883.10.20.22.4.6";

/** Problem Status values (SNOMED CT, C-CDA value set 2.16.840.1.113883.3.88.12.80.68). */
const STATUS_CODES: Record<string, ClinicalStatus> = {
  "55561003": ClinicalStatus.ACTIVE,
  "73425007": ClinicalStatus.INACTIVE,
  "413322009": ClinicalStatus.RESOLVED,
};

/**
 * Problem Section entries → Conditions. Each Problem Observation inside a Problem Concern Act
 * (or standing alone in an entry) is one Condition: value → code, code → category,
 * effectiveTime low/high → onset/abatement, negationInd → refuted.
 */
export function readProblems(section: El, warnings: ConversionWarning[]): Condition[] {
  const out: Condition[] = [];
  const concerns = entryStatements(section, "act");
  const pairs: Array<{ act: El | undefined; obs: El }> = [];
  for (const act of concerns) {
    const typed = relatedObservations(act, PROBLEM_OBSERVATION);
    for (const obs of typed.length > 0 ? typed : relatedObservations(act)) pairs.push({ act, obs });
  }
  for (const obs of entryStatements(section, "observation")) pairs.push({ act: undefined, obs });
  for (const { act, obs } of pairs) {
    const code = readCode(obs.one("value"));
    if (code === undefined) {
      warnings.push({
        code: "ccda.problem_without_code",
        location: obs.path,
        message: "problem observation has no coded or text value; skipped",
      });
      continue;
    }
    const condition = Condition.fromPartial({ id: readId(obs.one("id")), code });
    const category = readCode(obs.one("code"));
    if (category !== undefined) condition.categories = [category];
    const et = obs.one("effectiveTime");
    const low = readTs(et) ?? readTs(et?.one("low"));
    const high = readTs(et?.one("high"));
    if (low !== undefined) condition.onset = toPartialDate(low);
    if (high !== undefined) condition.abatement = toPartialDate(high);
    const recorded = readInstant(act?.one("effectiveTime"));
    if (recorded !== undefined) condition.recordedAt = recorded;
    const statusValue = relatedObservations(obs, PROBLEM_STATUS)[0]?.one("value")?.attr("code");
    const concernStatus = act?.one("statusCode")?.attr("code");
    condition.clinicalStatus =
      (statusValue !== undefined ? STATUS_CODES[statusValue] : undefined) ??
      (high !== undefined
        ? ClinicalStatus.RESOLVED
        : concernStatus === "active"
          ? ClinicalStatus.ACTIVE
          : concernStatus === "completed" || concernStatus === "aborted" || concernStatus === "suspended"
            ? ClinicalStatus.INACTIVE
            : ClinicalStatus.UNSPECIFIED);
    if (obs.attr("negationInd") === "true") condition.verificationStatus = VerificationStatus.REFUTED;
    out.push(condition);
  }
  return out;
}
