// @hix/linkage — pure record linkage: normalize, compare, score, block, cluster.
export type { LinkageRecord, NormalizedRecord, PartialDate } from "./types.js";
export {
  normalizeRecord,
  normalizeText,
  normalizeName,
  parseBirthDate,
  normalizePhone,
  normalizePostalCode,
  normalizeSsn,
} from "./normalize.js";
export { NICKNAMES, NICKNAME_PAIR_COUNT, nicknameRoots } from "./nicknames.js";
export { jaro, jaroWinkler, levenshtein, damerauLevenshtein, nysiis } from "./comparators.js";
export {
  FIELDS,
  LEVELS,
  compareRecords,
  type AgreementLevel,
  type Comparison,
  type FieldName,
} from "./compare.js";
export {
  PRIOR_PARAMETERS,
  buildModel,
  estimateParameters,
  scoreLevels,
  type EmOptions,
  type EmResult,
  type FieldParameters,
  type Model,
  type ModelParameters,
} from "./fellegiSunter.js";
export { checkGuards, type GuardCode, type GuardFinding } from "./guards.js";
export {
  DEFAULT_PASSES,
  blockRecords,
  type BlockingPass,
  type CandidatePairs,
  type PassStats,
} from "./blocking.js";
export { clusterMatches, type Clustering, type MatchEdge, type RefusedMerge } from "./cluster.js";
export {
  DEFAULT_THRESHOLDS,
  LinkageInputError,
  explainPair,
  linkRecords,
  type Decision,
  type FieldExplanation,
  type LinkCluster,
  type LinkOptions,
  type LinkResult,
  type LinkStats,
  type LinkedPair,
  type PairExplanation,
  type RefusedMergeReport,
  type Thresholds,
} from "./link.js";
