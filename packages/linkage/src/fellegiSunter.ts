// Fellegi-Sunter scoring (Fellegi & Sunter 1969): for each field and agreement level,
// m = P(level | same person), u = P(level | different people); the match weight of a level is
// log2(m/u) and a pair's score is the sum over its non-missing fields. m and u are estimated by
// expectation-maximisation over the candidate pairs (Winkler 1988), starting from and pulled
// toward priors, with probabilities clamped so that no single field can dominate a score.
import { DISAGREE, FIELDS, LEVELS, MISSING, type FieldName } from "./compare.js";

/** m and u over the four levels (exact, close, phonetic, disagree) of one field. */
export interface FieldParameters {
  readonly m: readonly [number, number, number, number];
  readonly u: readonly [number, number, number, number];
}
export type ModelParameters = Readonly<Record<FieldName, FieldParameters>>;

/** A scoring model: parameters and the weight table derived from them. */
export interface Model {
  readonly parameters: ModelParameters;
  /** weights[f * 5 + level] = log2(m/u); the `missing` slot is 0. */
  readonly weights: Float64Array;
  /** Largest total positive weight the location fields may add together (see LOCATION_FIELDS). */
  readonly locationCap: number;
}

/**
 * Fields that describe where a person lives. They are far from independent (same street ⇒ same
 * city, postal code, state, often phone) and household members share all of them, so summing
 * their weights as Fellegi-Sunter assumes would count one fact five times. Their positive
 * weights together are capped; the cut appears as an adjustment in explanations.
 */
export const LOCATION_FIELDS: readonly FieldName[] = ["address", "city", "postalCode", "state", "phone"];
const LOCATION_INDEX = new Uint8Array(FIELDS.length);
for (const f of LOCATION_FIELDS) LOCATION_INDEX[FIELDS.indexOf(f)] = 1;
export const DEFAULT_LOCATION_CAP = 10;

// Priors: what a registration clerk's data usually looks like. m: duplicates mostly agree
// exactly, sometimes with a typo; u: unrelated people rarely agree, except on sex and state.
const p = (m: number[], u: number[]): FieldParameters => ({
  m: m as unknown as FieldParameters["m"],
  u: u as unknown as FieldParameters["u"],
});
export const PRIOR_PARAMETERS: ModelParameters = {
  given: p([0.85, 0.08, 0.03, 0.04], [0.01, 0.01, 0.02, 0.96]),
  family: p([0.85, 0.08, 0.03, 0.04], [0.005, 0.01, 0.01, 0.975]),
  middle: p([0.8, 0.1, 0, 0.1], [0.05, 0.05, 0, 0.9]),
  birthDate: p([0.9, 0.06, 0.01, 0.03], [0.001, 0.005, 0.01, 0.984]),
  sex: p([0.97, 0, 0, 0.03], [0.5, 0, 0, 0.5]),
  address: p([0.7, 0.1, 0, 0.2], [0.005, 0.005, 0, 0.99]),
  city: p([0.8, 0.08, 0, 0.12], [0.05, 0.02, 0, 0.93]),
  postalCode: p([0.8, 0.06, 0, 0.14], [0.02, 0.02, 0, 0.96]),
  state: p([0.9, 0, 0, 0.1], [0.2, 0, 0, 0.8]),
  phone: p([0.75, 0.05, 0, 0.2], [0.002, 0.002, 0, 0.996]),
  ssn: p([0.92, 0.05, 0, 0.03], [0.0005, 0.002, 0, 0.9975]),
  email: p([0.7, 0.1, 0, 0.2], [0.001, 0.002, 0, 0.997]),
  mrn: p([0.5, 0, 0, 0.5], [0.0001, 0, 0, 0.9999]),
};

// Plausibility bounds on m(disagree): how often a true duplicate may disagree on a field.
// Without them EM on data with households (twins, spouses, parent and child share family name,
// address and phone) settles on "same household" as its match class, where given names and birth
// dates disagree freely. Bounding m(disagree) of the person-level fields keeps the latent class
// a person. Family names change at marriage, so their bound is looser.
export const MAX_M_DISAGREE: Readonly<Partial<Record<FieldName, number>>> = {
  given: 0.1,
  family: 0.25,
  birthDate: 0.1,
  sex: 0.05,
  ssn: 0.1,
};

// Probabilities are clamped to [CLAMP, 1 − CLAMP]: a field then moves a score by at most
// log2((1 − CLAMP) / CLAMP) ≈ 13.3 bits.
const CLAMP = 1e-4;
const LEVEL_COUNT = LEVELS.length;
const SLOT = LEVEL_COUNT + 1; // levels + missing

function clampNormalize(values: readonly number[]): [number, number, number, number] {
  // Levels a field never uses (prior 0) stay at the floor; the rest are renormalized.
  const clamped = values.map((v) => Math.min(1 - CLAMP, Math.max(CLAMP, v)));
  const total = clamped.reduce((s, v) => s + v, 0);
  return clamped.map((v) => v / total) as [number, number, number, number];
}

function boundDisagree(
  m: [number, number, number, number],
  max: number | undefined,
): [number, number, number, number] {
  if (max === undefined || m[DISAGREE] <= max) return m;
  // Move the excess to the agreeing levels in proportion to their mass.
  const agreeing = m[0] + m[1] + m[2];
  const scale = (1 - max) / agreeing;
  return [m[0] * scale, m[1] * scale, m[2] * scale, max];
}

/** Build a model (weight table) from parameters. */
export function buildModel(parameters: ModelParameters, locationCap = DEFAULT_LOCATION_CAP): Model {
  const weights = new Float64Array(FIELDS.length * SLOT);
  const clean = {} as Record<FieldName, FieldParameters>;
  FIELDS.forEach((field, f) => {
    const m = clampNormalize(parameters[field].m);
    const u = clampNormalize(parameters[field].u);
    clean[field] = { m, u };
    for (let l = 0; l < LEVEL_COUNT; l++) weights[f * SLOT + l] = Math.log2(m[l]! / u[l]!);
    weights[f * SLOT + MISSING] = 0;
  });
  return { parameters: clean, weights, locationCap };
}

/**
 * Score of one comparison: the sum of its field weights (missing fields add 0) plus the
 * location adjustment (≤ 0, see LOCATION_FIELDS).
 */
export function scoreLevels(model: Model, levels: Uint8Array, offset = 0): number {
  let score = 0;
  let location = 0;
  for (let f = 0; f < FIELDS.length; f++) {
    const w = model.weights[f * SLOT + levels[offset + f]!]!;
    score += w;
    if (LOCATION_INDEX[f] === 1 && w > 0) location += w;
  }
  return location > model.locationCap ? score + (model.locationCap - location) : score;
}

/** The location adjustment (≤ 0) of one comparison. */
export function locationAdjustment(model: Model, levels: Uint8Array, offset = 0): number {
  let location = 0;
  for (let f = 0; f < FIELDS.length; f++) {
    const w = model.weights[f * SLOT + levels[offset + f]!]!;
    if (LOCATION_INDEX[f] === 1 && w > 0) location += w;
  }
  return location > model.locationCap ? model.locationCap - location : 0;
}

/** Weight of one field at one level. */
export function fieldWeight(model: Model, field: number, level: number): number {
  return model.weights[field * SLOT + level]!;
}

export interface EmOptions {
  /** Stop when no m, u or λ moves more than this between iterations (default 1e-6). */
  readonly tolerance?: number;
  readonly maxIterations?: number;
  /** Weight of the priors, in pseudo-pairs per field (default 10). */
  readonly priorStrength?: number;
  /** Fields whose parameters are fixed by configuration and not re-estimated. */
  readonly fixed?: Partial<ModelParameters>;
  /**
   * u probabilities measured elsewhere (random record pairs, see estimateU); EM then keeps them
   * and estimates only m and λ. u from candidate pairs is biased: blocking makes non-matches agree
   * on the blocked fields, which would shrink exactly those fields' weights.
   */
  readonly u?: Partial<Record<FieldName, readonly number[]>>;
}

/**
 * u probabilities from comparison vectors of random record pairs (nearly all non-matches),
 * with the prior u as pseudo-counts.
 */
export function estimateU(
  levels: Uint8Array,
  prior: ModelParameters = PRIOR_PARAMETERS,
  priorStrength = 10,
): Record<FieldName, number[]> {
  const F = FIELDS.length;
  const result = {} as Record<FieldName, number[]>;
  FIELDS.forEach((field, f) => {
    const counts = prior[field].u.map((v) => v * priorStrength);
    for (let p = f; p < levels.length; p += F) {
      const l = levels[p]!;
      if (l !== MISSING) counts[l]! += 1;
    }
    const total = counts.reduce((x, y) => x + y, 0);
    result[field] = clampNormalize(counts.map((c) => c / total));
  });
  return result;
}

export interface EmResult {
  readonly parameters: ModelParameters;
  /** Estimated share of candidate pairs that are matches. */
  readonly lambda: number;
  readonly iterations: number;
  readonly converged: boolean;
  /** Fields whose estimate was implausible (agreement not evidence for a match) and fell back to priors. */
  readonly fellBackToPrior: readonly FieldName[];
  readonly distinctPatterns: number;
}

/**
 * Estimate m, u and λ by EM over comparison vectors (`levels`: pairCount × FIELDS.length).
 * Identical vectors are grouped first, so the cost per iteration is the number of distinct
 * patterns, not pairs. Priors act as Dirichlet pseudo-counts; `missing` levels are ignored.
 * The person fields (names, birth date, sex, identifiers) define the latent match class; the
 * location fields are estimated from it without feeding back into it.
 */
export function estimateParameters(
  levels: Uint8Array,
  prior: ModelParameters = PRIOR_PARAMETERS,
  options: EmOptions = {},
): EmResult {
  const F = FIELDS.length;
  const pairCount = levels.length / F;
  // Group identical patterns.
  const groups = new Map<string, number>();
  const firstIndex = new Map<string, number>();
  for (let i = 0; i < pairCount; i++) {
    const key = String.fromCharCode(...levels.subarray(i * F, i * F + F));
    const n = groups.get(key);
    if (n === undefined) {
      groups.set(key, 1);
      firstIndex.set(key, i);
    } else groups.set(key, n + 1);
  }
  const patterns: Uint8Array[] = [];
  const counts: number[] = [];
  for (const [key, n] of groups) {
    const i = firstIndex.get(key)!;
    patterns.push(levels.subarray(i * F, i * F + F));
    counts.push(n);
  }

  const tolerance = options.tolerance ?? 1e-6;
  const maxIterations = options.maxIterations ?? 500;
  const strength = options.priorStrength ?? 10;
  const fixed = options.fixed ?? {};
  const m = FIELDS.map((f) => [...(fixed[f] ?? prior[f]).m]);
  const measuredU = options.u ?? {};
  const u = FIELDS.map((f) => [...(fixed[f]?.u ?? measuredU[f] ?? prior[f].u)]);
  let lambda = 0.1;
  let iterations = 0;
  let converged = false;
  const g = new Float64Array(patterns.length);

  while (iterations < maxIterations && !converged) {
    iterations++;
    // E-step: posterior probability that each pattern is a match.
    let matchMass = 0;
    for (let k = 0; k < patterns.length; k++) {
      const pattern = patterns[k]!;
      let pm = lambda;
      let pu = 1 - lambda;
      for (let f = 0; f < F; f++) {
        const l = pattern[f]!;
        // Location fields do not drive the E-step (see LOCATION_FIELDS): their correlation would
        // make "lives in the same place" the latent class. Their m/u still follow from it.
        if (l === MISSING || LOCATION_INDEX[f] === 1) continue;
        pm *= Math.max(CLAMP, m[f]![l]!);
        pu *= Math.max(CLAMP, u[f]![l]!);
      }
      g[k] = pm / (pm + pu);
      matchMass += g[k]! * counts[k]!;
    }
    // M-step with Dirichlet priors.
    let delta = 0;
    const nextLambda = Math.min(0.99, Math.max(1e-6, matchMass / pairCount));
    delta = Math.abs(nextLambda - lambda);
    lambda = nextLambda;
    for (let f = 0; f < F; f++) {
      const field = FIELDS[f]!;
      if (fixed[field] !== undefined) continue;
      const mc = prior[field].m.map((v) => v * strength);
      const uc = prior[field].u.map((v) => v * strength);
      for (let k = 0; k < patterns.length; k++) {
        const l = patterns[k]![f]!;
        if (l === MISSING) continue;
        mc[l]! += g[k]! * counts[k]!;
        uc[l]! += (1 - g[k]!) * counts[k]!;
      }
      const nm = boundDisagree(
        clampNormalize(mc.map((v) => v / mc.reduce((s, x) => s + x, 0))),
        MAX_M_DISAGREE[field],
      );
      const nu = clampNormalize(uc.map((v) => v / uc.reduce((s, x) => s + x, 0)));
      const keepU = measuredU[field] !== undefined;
      for (let l = 0; l < LEVEL_COUNT; l++) {
        delta = Math.max(delta, Math.abs(nm[l]! - m[f]![l]!), keepU ? 0 : Math.abs(nu[l]! - u[f]![l]!));
        m[f]![l] = nm[l]!;
        if (!keepU) u[f]![l] = nu[l]!;
      }
    }
    converged = delta < tolerance;
  }

  // Sanity: exact agreement must be evidence for, and disagreement evidence against, a match.
  // When EM says otherwise (a field that is nearly always missing, or a latent class that
  // captured households instead of persons), keep the prior for that field.
  const parameters = {} as Record<FieldName, FieldParameters>;
  const fellBackToPrior: FieldName[] = [];
  FIELDS.forEach((field, f) => {
    const mf = m[f]!;
    const uf = u[f]!;
    const plausible = mf[0]! > uf[0]! && mf[DISAGREE]! < uf[DISAGREE]!;
    if (fixed[field] !== undefined) parameters[field] = fixed[field];
    else if (plausible)
      parameters[field] = {
        m: mf as unknown as FieldParameters["m"],
        u: uf as unknown as FieldParameters["u"],
      };
    else {
      parameters[field] = prior[field];
      fellBackToPrior.push(field);
    }
  });
  return { parameters, lambda, iterations, converged, fellBackToPrior, distinctPatterns: patterns.length };
}
