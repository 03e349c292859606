import {
  AllergyCategory,
  AllergyCriticality,
  AllergyIntolerance,
  AllergyIntoleranceType,
  AllergyReaction,
  ClinicalStatus,
  type ConversionWarning,
  ReactionSeverity,
  VerificationStatus,
} from "@hix/proto";
import type { El } from "./xml.js";
import { readCode, readId, readInstant, readTs } from "./datatypes.js";
import { toPartialDate } from "./timestamp.js";
import { entryStatements, relatedObservations } from "./sections.js";

// C-CDA R2.1 templates.
const ALLERGY_OBSERVATION = "2.16.840.1.113883.10.20.22.4.7";
const REACTION_OBSERVATION = "2.16.840.1.113883.10.20.22.4.9";
const SEVERITY_OBSERVATION = "2.16.840.1.113883.10.20.22.4.8";
const ALLERGY_STATUS = "2.16.840.1.113883.10.20.22.4.28";
const CRITICALITY_OBSERVATION = "2.16.840.1.113883.10.20.22.4.145";

/** Allergy and Intolerance Type value set (SNOMED CT, 2.16.840.1.113883.3.88.12.3221.6.2) → type + category. */
const TYPES: Record<string, [AllergyIntoleranceType, AllergyCategory | undefined]> = {
  "419199007": [AllergyIntoleranceType.ALLERGY, undefined],
  "416098002": [AllergyIntoleranceType.ALLERGY, AllergyCategory.MEDICATION],
  "414285001": [AllergyIntoleranceType.ALLERGY, AllergyCategory.FOOD],
  "426232007": [AllergyIntoleranceType.ALLERGY, AllergyCategory.ENVIRONMENT],
  "232347008": [AllergyIntoleranceType.ALLERGY, AllergyCategory.ENVIRONMENT],
  "59037007": [AllergyIntoleranceType.INTOLERANCE, AllergyCategory.MEDICATION],
  "235719002": [AllergyIntoleranceType.INTOLERANCE, AllergyCategory.FOOD],
  "782197009": [AllergyIntoleranceType.INTOLERANCE, undefined],
  "419511003": [AllergyIntoleranceType.UNSPECIFIED, AllergyCategory.MEDICATION],
  "418471000": [AllergyIntoleranceType.UNSPECIFIED, AllergyCategory.FOOD],
  "420134006": [AllergyIntoleranceType.UNSPECIFIED, undefined],
  "418038007": [AllergyIntoleranceType.UNSPECIFIED, undefined],
};

const SEVERITIES: Record<string, ReactionSeverity> = {
  "255604002": ReactionSeverity.MILD,
  "371923003": ReactionSeverity.MILD, // mild to moderate
  "6736007": ReactionSeverity.MODERATE,
  "371924009": ReactionSeverity.SEVERE, // moderate to severe
  "24484000": ReactionSeverity.SEVERE,
  "399166001": ReactionSeverity.SEVERE, // fatal
};

const CRITICALITIES: Record<string, AllergyCriticality> = {
  CRITL: AllergyCriticality.LOW,
  CRITH: AllergyCriticality.HIGH,
  CRITU: AllergyCriticality.UNABLE_TO_ASSESS,
};

const STATUSES: Record<string, ClinicalStatus> = {
  "55561003": ClinicalStatus.ACTIVE,
  "73425007": ClinicalStatus.INACTIVE,
  "413322009": ClinicalStatus.RESOLVED,
};

/**
 * Allergies Section entries (Allergy Concern Act 4.30 → Allergy – Intolerance Observation 4.7)
 * → AllergyIntolerances: participant[CSM]/participantRole/playingEntity/code → code (the
 * substance), value → type and category, effectiveTime/low → onset, MFST reactions with their
 * severity, criticality and status observations, negationInd → refuted ("no known allergy").
 */
export function readAllergies(section: El, warnings: ConversionWarning[]): AllergyIntolerance[] {
  const out: AllergyIntolerance[] = [];
  const pairs: Array<{ act: El | undefined; obs: El }> = [];
  for (const act of entryStatements(section, "act")) {
    const typed = relatedObservations(act, ALLERGY_OBSERVATION);
    for (const obs of typed.length > 0 ? typed : relatedObservations(act)) pairs.push({ act, obs });
  }
  for (const obs of entryStatements(section, "observation")) pairs.push({ act: undefined, obs });
  for (const { act, obs } of pairs) {
    const substance = readCode(
      obs
        .all("participant")
        .find((p) => p.attr("typeCode") === "CSM")
        ?.at("participantRole", "playingEntity", "code"),
    );
    const value = readCode(obs.one("value"));
    const negated = obs.attr("negationInd") === "true";
    const code = substance ?? (negated ? value : undefined);
    if (code === undefined) {
      warnings.push({
        code: "ccda.allergy_without_substance",
        location: obs.path,
        message: "allergy observation names no substance; skipped",
      });
      continue;
    }
    const allergy = AllergyIntolerance.fromPartial({ id: readId(obs.one("id")), code });
    const typeCode = obs.one("value")?.attr("code");
    const typed = typeCode !== undefined ? TYPES[typeCode] : undefined;
    if (typed !== undefined) {
      allergy.type = typed[0];
      if (typed[1] !== undefined) allergy.categories = [typed[1]];
    }
    const et = obs.one("effectiveTime");
    const onset = readTs(et) ?? readTs(et?.one("low"));
    const resolved = readTs(et?.one("high"));
    if (onset !== undefined) allergy.onset = toPartialDate(onset);
    const recorded = readInstant(act?.one("effectiveTime"));
    if (recorded !== undefined) allergy.recordedAt = recorded;
    const statusCode = relatedObservations(obs, ALLERGY_STATUS)[0]?.one("value")?.attr("code");
    const concern = act?.one("statusCode")?.attr("code");
    allergy.clinicalStatus =
      (statusCode !== undefined ? STATUSES[statusCode] : undefined) ??
      (resolved !== undefined
        ? ClinicalStatus.RESOLVED
        : concern === "active"
          ? ClinicalStatus.ACTIVE
          : concern === "completed"
            ? ClinicalStatus.INACTIVE
            : ClinicalStatus.UNSPECIFIED);
    if (negated) allergy.verificationStatus = VerificationStatus.REFUTED;
    const crit = relatedObservations(obs, CRITICALITY_OBSERVATION)[0]?.one("value")?.attr("code");
    if (crit !== undefined) allergy.criticality = CRITICALITIES[crit] ?? AllergyCriticality.UNSPECIFIED;
    // An allergy-level severity (C-CDA 1.1 placed it on the allergy observation) applies to every reaction.
    const allergySeverity = severityOf(obs);
    const reactionEls = obs
      .all("entryRelationship")
      .filter((r) => r.attr("typeCode") === "MFST")
      .map((r) => r.one("observation"))
      .filter((o): o is El => o !== undefined);
    for (const r of reactionEls.length > 0 ? reactionEls : relatedObservations(obs, REACTION_OBSERVATION)) {
      const manifestation = readCode(r.one("value"));
      const reaction = AllergyReaction.fromPartial({
        manifestations: manifestation === undefined ? [] : [manifestation],
        severity: severityOf(r) ?? allergySeverity ?? ReactionSeverity.UNSPECIFIED,
      });
      const rOnset = readTs(r.one("effectiveTime")) ?? readTs(r.at("effectiveTime", "low"));
      if (rOnset !== undefined) reaction.onset = toPartialDate(rOnset);
      if (reaction.manifestations.length > 0) allergy.reactions.push(reaction);
    }
    out.push(allergy);
  }
  return out;
}

function severityOf(obs: El): ReactionSeverity | undefined {
  const code = relatedObservations(obs, SEVERITY_OBSERVATION)[0]?.one("value")?.attr("code");
  return code === undefined ? undefined : SEVERITIES[code];
}
