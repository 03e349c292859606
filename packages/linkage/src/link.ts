// Batch linkage: normalize once → block → compare → estimate m/u (EM) → score → guards →
// decide → cluster. Pure: records in, results out, no I/O.
import { blockRecords, type BlockingPass } from "./blocking.js";
import { clusterMatches } from "./cluster.js";
import {
  compareInto,
  comparedValue,
  FIELDS,
  LEVELS,
  MISSING,
  type AgreementLevel,
  type FieldName,
  type Notes,
} from "./compare.js";
import {
  buildModel,
  estimateParameters,
  estimateU,
  fieldWeight,
  locationAdjustment,
  PRIOR_PARAMETERS,
  scoreLevels,
  type EmOptions,
  type Model,
  type ModelParameters,
} from "./fellegiSunter.js";
import { checkGuards, type GuardCode, type GuardFinding } from "./guards.js";
import { normalizeRecord } from "./normalize.js";
import type { LinkageRecord, NormalizedRecord } from "./types.js";

export type Decision = "match" | "review" | "no-link";

/** Score thresholds, in log2 match-weight units (bits of evidence). */
export interface Thresholds {
  /** At or above: `match` (unless a guard caps it at `review`). */
  readonly match: number;
  /** At or above: `review`. */
  readonly review: number;
  /** Below: the pair is a strong non-match, and clustering never puts the two records together. */
  readonly strongNonMatch: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = { match: 20, review: 6, strongNonMatch: -4 };

export interface LinkOptions {
  readonly thresholds?: Partial<Thresholds>;
  /** Parameters fixed by configuration (not re-estimated); others start from PRIOR_PARAMETERS. */
  readonly parameters?: Partial<ModelParameters>;
  /** Estimate m/u by EM from the candidate pairs (default true); false uses priors + `parameters`. */
  readonly estimate?: boolean;
  /** Random record pairs compared to measure u (default 50 000). */
  readonly uSampleSize?: number;
  /** Cap on the summed positive weight of the location fields (default DEFAULT_LOCATION_CAP). */
  readonly locationCap?: number;
  readonly em?: Omit<EmOptions, "fixed">;
  readonly blocking?: { readonly passes?: readonly BlockingPass[]; readonly maxBlockSize?: number };
  /** Two-source linkage: only pair records whose `facilityId` differs. */
  readonly crossSourceOnly?: boolean;
  /** Also return candidate pairs decided `no-link` (default false: only match and review). */
  readonly includeNonLinks?: boolean;
}

export interface LinkedPair {
  readonly a: string;
  readonly b: string;
  readonly score: number;
  readonly decision: Decision;
}

export interface FieldExplanation {
  readonly field: FieldName;
  readonly level: AgreementLevel;
  /** Normalized values as compared; the caller decides whether to show them. */
  readonly a: string | undefined;
  readonly b: string | undefined;
  /** log2(m/u) for this level; 0 when missing. The weights sum to the score. */
  readonly weight: number;
  readonly note?: string;
}

export interface PairExplanation {
  readonly a: string;
  readonly b: string;
  readonly score: number;
  readonly decision: Decision;
  /** Decision the score alone would give, before guards. */
  readonly scoreDecision: Decision;
  readonly fields: readonly FieldExplanation[];
  /** Corrections to the plain sum of field weights (the location cap). score = Σ fields + Σ adjustments. */
  readonly adjustments: readonly { readonly reason: string; readonly weight: number }[];
  readonly guards: readonly GuardFinding[];
  readonly swappedNames: boolean;
}

export interface LinkCluster {
  readonly ids: readonly string[];
  /** A merge into or out of this cluster was refused: a person should look at it. */
  readonly review: boolean;
}

export interface RefusedMergeReport {
  /** The match pair that was not allowed to merge its two clusters. */
  readonly a: string;
  readonly b: string;
  /** The pair across the two clusters that blocked it. */
  readonly conflictA: string;
  readonly conflictB: string;
  readonly reason: string;
}

export interface LinkStats {
  readonly records: number;
  readonly candidatePairs: number;
  readonly passes: ReturnType<typeof blockRecords>["passes"];
  readonly em:
    | {
        readonly iterations: number;
        readonly converged: boolean;
        readonly lambda: number;
        readonly distinctPatterns: number;
        readonly fellBackToPrior: readonly FieldName[];
      }
    | undefined;
  readonly decisions: Readonly<Record<Decision, number>>;
  /** Pairs whose score reached `match` but a guard capped at `review`, by guard. */
  readonly cappedByGuard: Readonly<Record<GuardCode, number>>;
  readonly clusters: number;
  readonly refusedMerges: number;
  readonly milliseconds: Readonly<
    Record<"normalize" | "block" | "compare" | "estimate" | "score" | "cluster" | "total", number>
  >;
}

export interface LinkResult {
  readonly pairs: readonly LinkedPair[];
  readonly clusters: readonly LinkCluster[];
  readonly refusedMerges: readonly RefusedMergeReport[];
  readonly stats: LinkStats;
  readonly model: Model;
  readonly thresholds: Thresholds;
  /** Explain any two records of the batch (candidate pair or not). */
  explain(pair: { readonly a: string; readonly b: string }): PairExplanation;
  /** Whether blocking made (a, b) a candidate pair. */
  isCandidate(a: string, b: string): boolean;
}

export class LinkageInputError extends Error {
  override readonly name = "LinkageInputError";
  readonly code = "LINKAGE_DUPLICATE_ID";
  readonly retryable = false;
  constructor(position: number) {
    super(`linkRecords: record at position ${position} repeats an id used earlier in the batch`);
  }
}

/** mulberry32: a seeded PRNG, so the same batch always gets the same u sample and model. */
function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function decide(
  score: number,
  guards: readonly GuardFinding[],
  t: Thresholds,
): { decision: Decision; scoreDecision: Decision } {
  const scoreDecision: Decision = score >= t.match ? "match" : score >= t.review ? "review" : "no-link";
  return {
    decision: scoreDecision === "match" && guards.length > 0 ? "review" : scoreDecision,
    scoreDecision,
  };
}

/** Compare, score, guard and explain one pair of records under a model. */
export function explainPair(
  a: NormalizedRecord,
  b: NormalizedRecord,
  model: Model = buildModel(PRIOR_PARAMETERS),
  thresholds: Thresholds = DEFAULT_THRESHOLDS,
): PairExplanation {
  const notes: Notes = {};
  const levels = new Uint8Array(FIELDS.length);
  const swappedNames = compareInto(a, b, levels, 0, notes);
  const fields: FieldExplanation[] = FIELDS.map((field, f) => {
    const level = levels[f]!;
    const note = notes[field];
    const swapped = swappedNames && (field === "given" || field === "family");
    const other: FieldName = field === "given" ? "family" : "given";
    return {
      field,
      level: level === MISSING ? "missing" : LEVELS[level]!,
      a: comparedValue(a, field),
      b: comparedValue(b, swapped ? other : field),
      weight: fieldWeight(model, f, level),
      ...(note === undefined ? {} : { note }),
    };
  });
  const cut = locationAdjustment(model, levels);
  const adjustments =
    cut === 0
      ? []
      : [{ reason: `location fields capped at ${model.locationCap} bits together`, weight: cut }];
  let score = 0;
  for (const f of fields) score += f.weight;
  for (const adj of adjustments) score += adj.weight;
  const guards = checkGuards(a, b, levels);
  return {
    a: a.id,
    b: b.id,
    score,
    ...decide(score, guards, thresholds),
    fields,
    adjustments,
    guards,
    swappedNames,
  };
}

/** Link a batch of records: candidate pairs with scores and decisions, clusters and statistics. */
export function linkRecords(records: readonly LinkageRecord[], options: LinkOptions = {}): LinkResult {
  const t0 = performance.now();
  const thresholds: Thresholds = { ...DEFAULT_THRESHOLDS, ...options.thresholds };
  const indexOf = new Map<string, number>();
  records.forEach((r, i) => {
    if (indexOf.has(r.id)) throw new LinkageInputError(i);
    indexOf.set(r.id, i);
  });
  const normalized = records.map(normalizeRecord);
  const t1 = performance.now();

  const candidates = blockRecords(normalized, {
    ...(options.blocking?.passes === undefined ? {} : { passes: options.blocking.passes }),
    ...(options.blocking?.maxBlockSize === undefined ? {} : { maxBlockSize: options.blocking.maxBlockSize }),
    ...(options.crossSourceOnly === true ? { source: (i: number) => normalized[i]!.facilityId } : {}),
  });
  const t2 = performance.now();

  const F = FIELDS.length;
  const count = candidates.count;
  const levels = new Uint8Array(count * F);
  for (let p = 0; p < count; p++)
    compareInto(normalized[candidates.a[p]!]!, normalized[candidates.b[p]!]!, levels, p * F);
  const t3 = performance.now();

  const fixed = options.parameters ?? {};
  // u from random record pairs (deterministic sample): what agreement looks like by chance.
  const sampleSize = Math.min(
    options.uSampleSize ?? 50_000,
    (normalized.length * (normalized.length - 1)) / 2,
  );
  const uLevels = new Uint8Array(sampleSize * F);
  const random = seededRandom(0x5eed);
  let sampled = 0;
  for (let tries = 0; sampled < sampleSize && tries < sampleSize * 20; tries++) {
    const i = Math.floor(random() * normalized.length);
    const j = Math.floor(random() * normalized.length);
    if (i === j) continue;
    if (options.crossSourceOnly === true && normalized[i]!.facilityId === normalized[j]!.facilityId) continue;
    compareInto(normalized[i]!, normalized[j]!, uLevels, sampled * F);
    sampled++;
  }
  let model: Model;
  let em: LinkStats["em"];
  if (options.estimate === false || count === 0) {
    model = buildModel({ ...PRIOR_PARAMETERS, ...fixed }, options.locationCap);
    em = undefined;
  } else {
    const u = sampled > 0 ? estimateU(uLevels.subarray(0, sampled * F)) : undefined;
    const result = estimateParameters(levels, PRIOR_PARAMETERS, {
      ...options.em,
      fixed,
      ...(u === undefined ? {} : { u }),
    });
    model = buildModel(result.parameters, options.locationCap);
    em = {
      iterations: result.iterations,
      converged: result.converged,
      lambda: result.lambda,
      distinctPatterns: result.distinctPatterns,
      fellBackToPrior: result.fellBackToPrior,
    };
  }
  const t4 = performance.now();

  const decisions = { match: 0, review: 0, "no-link": 0 };
  const cappedByGuard: Record<GuardCode, number> = {
    "possible-twins": 0,
    "possible-jr-sr": 0,
    "identifier-conflict": 0,
    "birth-date-unconfirmed": 0,
  };
  const pairs: LinkedPair[] = [];
  const edges: { i: number; j: number; score: number }[] = [];
  for (let p = 0; p < count; p++) {
    const score = scoreLevels(model, levels, p * F);
    if (score < thresholds.review && options.includeNonLinks !== true) {
      decisions["no-link"]++;
      continue;
    }
    const i = candidates.a[p]!;
    const j = candidates.b[p]!;
    const guards =
      score >= thresholds.match ? checkGuards(normalized[i]!, normalized[j]!, levels, p * F) : [];
    const { decision } = decide(score, guards, thresholds);
    decisions[decision]++;
    for (const g of guards) cappedByGuard[g.code]++;
    if (decision === "match") edges.push({ i, j, score });
    pairs.push({ a: records[i]!.id, b: records[j]!.id, score, decision });
  }
  const t5 = performance.now();

  // Cross pairs checked during clustering are compared on demand (clusters are small).
  const scratch = new Uint8Array(F);
  const conflict = (i: number, j: number): string | undefined => {
    const a = normalized[i]!;
    const b = normalized[j]!;
    compareInto(a, b, scratch, 0);
    const guards = checkGuards(a, b, scratch, 0);
    if (guards.length > 0) return guards.map((g) => g.reason).join("; ");
    const score = scoreLevels(model, scratch, 0);
    return score < thresholds.strongNonMatch ? `strong non-match (score ${score.toFixed(1)})` : undefined;
  };
  const clustering = clusterMatches(normalized.length, edges, conflict);
  const reviewClusters = new Set<number>();
  const refusedMerges = clustering.refused.map((r) => {
    for (const x of [r.i, r.j])
      if (clustering.clusterOf[x]! >= 0) reviewClusters.add(clustering.clusterOf[x]!);
    return {
      a: records[r.i]!.id,
      b: records[r.j]!.id,
      conflictA: records[r.conflictI]!.id,
      conflictB: records[r.conflictJ]!.id,
      reason: r.reason,
    };
  });
  const clusters = clustering.clusters.map((members, c) => ({
    ids: members.map((m) => records[m]!.id),
    review: reviewClusters.has(c),
  }));
  const t6 = performance.now();

  const round = (ms: number): number => Math.round(ms * 10) / 10;
  const stats: LinkStats = {
    records: records.length,
    candidatePairs: count,
    passes: candidates.passes,
    em,
    decisions,
    cappedByGuard,
    clusters: clusters.length,
    refusedMerges: refusedMerges.length,
    milliseconds: {
      normalize: round(t1 - t0),
      block: round(t2 - t1),
      compare: round(t3 - t2),
      estimate: round(t4 - t3),
      score: round(t5 - t4),
      cluster: round(t6 - t5),
      total: round(t6 - t0),
    },
  };

  const lookup = (id: string): number => {
    const i = indexOf.get(id);
    if (i === undefined) throw new RangeError("explain: id is not part of this batch");
    return i;
  };
  return {
    pairs,
    clusters,
    refusedMerges,
    stats,
    model,
    thresholds,
    explain: (pair) =>
      explainPair(normalized[lookup(pair.a)]!, normalized[lookup(pair.b)]!, model, thresholds),
    isCandidate: (a, b) => {
      const i = indexOf.get(a);
      const j = indexOf.get(b);
      return i !== undefined && j !== undefined && candidates.has(i, j);
    },
  };
}
