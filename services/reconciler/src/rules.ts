/**
 * Rule versions: the linkage model and thresholds the index decides with. A decision records
 * the version that made it, so a new version can be run in shadow over the index (shadow.ts)
 * and compared before it is switched on (HIX_RECONCILER_RULE_VERSION).
 *
 * The service scores one record against its candidates at a time, so it cannot estimate m/u by
 * EM per message; it uses parameters fixed per rule version (the linkage priors, which the
 * FEBRL/synthetic evaluation in docs/benchmarks.md measured), overridable here.
 */
import {
  DEFAULT_THRESHOLDS,
  PRIOR_PARAMETERS,
  buildModel,
  compareRecords,
  explainPair,
  scoreLevels,
  type Model,
  type NormalizedRecord,
  type PairExplanation,
  type Thresholds,
} from "@hix/linkage";

export interface Rule {
  readonly version: string;
  readonly description: string;
  readonly model: Model;
  readonly thresholds: Thresholds;
}

function rule(version: string, description: string, thresholds: Partial<Thresholds> = {}): Rule {
  return {
    version,
    description,
    model: buildModel(PRIOR_PARAMETERS),
    thresholds: { ...DEFAULT_THRESHOLDS, ...thresholds },
  };
}

/** Every rule version the service knows. Never change a published one: add a new version. */
export const RULES: Readonly<Record<string, Rule>> = {
  "fs-1": rule("fs-1", "linkage priors; match ≥ 20 bits, review ≥ 6 bits"),
  "fs-1-strict": rule("fs-1-strict", "linkage priors; match ≥ 24 bits, review ≥ 8 bits", {
    match: 24,
    review: 8,
  }),
};

export const DEFAULT_RULE_VERSION = "fs-1";

export class UnknownRuleVersionError extends Error {
  override readonly name = "UnknownRuleVersionError";
  readonly code = "reconciler.unknown_rule_version";
  readonly retryable = false;
  constructor(version: string) {
    super(`unknown rule version ${JSON.stringify(version)}; known: ${Object.keys(RULES).join(", ")}`);
  }
}

export function ruleFor(version: string): Rule {
  const found = RULES[version];
  if (found === undefined) throw new UnknownRuleVersionError(version);
  return found;
}

/**
 * A score in bits as the 0..1 number the contract carries (Holder.score, IdentityAlert.score):
 * the posterior match probability under prior odds of 1 : 2^10 that two candidates are the same
 * person. 20 bits (the `match` threshold) → 0.999; 6 bits (review) → 0.06.
 */
export const PRIOR_ODDS_BITS = 10;
export function probability(bits: number): number {
  return 1 / (1 + 2 ** -(bits - PRIOR_ODDS_BITS));
}
/** Inverse of `probability`. */
export function bitsFor(probabilityValue: number): number {
  const p = Math.min(Math.max(probabilityValue, 1e-12), 1 - 1e-12);
  return PRIOR_ODDS_BITS + Math.log2(p / (1 - p));
}

export function explain(a: NormalizedRecord, b: NormalizedRecord, r: Rule): PairExplanation {
  return explainPair(a, b, r.model, r.thresholds);
}

/**
 * The score alone (bits), without building the explanation: the same sum as `explain` (field
 * weights plus the location cap), at about a fifth of its cost. Incremental matching scores
 * every candidate with it and explains only those at or above the review threshold — below it
 * the decision is `no-link` whatever the guards say (guards only lower a match to review).
 */
export function quickScore(a: NormalizedRecord, b: NormalizedRecord, r: Rule): number {
  return scoreLevels(r.model, compareRecords(a, b).levels);
}

/** The explanation without the compared values (PHI): what a link stores as its reason. */
export function explanationWithoutValues(e: PairExplanation): Record<string, unknown> {
  return {
    score: round(e.score),
    decision: e.decision,
    scoreDecision: e.scoreDecision,
    fields: e.fields.map((f) => ({
      field: f.field,
      level: f.level,
      weight: round(f.weight),
      ...(f.note === undefined ? {} : { note: f.note }),
    })),
    adjustments: e.adjustments.map((a) => ({ reason: a.reason, weight: round(a.weight) })),
    guards: e.guards,
    swappedNames: e.swappedNames,
  };
}

/** A one-line reason naming fields, never values (IdentityAlert.reason travels to facilities). */
export function summarize(e: PairExplanation): string {
  const agree = e.fields.filter((f) => f.level === "exact" || f.level === "close").map((f) => f.field);
  const disagree = e.fields.filter((f) => f.level === "disagree").map((f) => f.field);
  const parts = [`score ${e.score.toFixed(1)} bits`];
  if (agree.length > 0) parts.push(`agree: ${agree.join(", ")}`);
  if (disagree.length > 0) parts.push(`disagree: ${disagree.join(", ")}`);
  for (const g of e.guards) parts.push(`guard ${g.code}: ${g.reason}`);
  return parts.join("; ");
}

const round = (x: number): number => Math.round(x * 100) / 100;
