// @hix/reconciler — the master patient index service. main.ts runs it; tools (the `hix review`
// command, benchmarks) use the functions below on the same PostgreSQL schema.
export {
  start,
  migrateReconcilerSchema,
  MIGRATIONS_DIR,
  type ReconcilerDeps,
  type RunningReconciler,
} from "./app.js";
export { reconcilerConfigSchema, type ReconcilerConfig } from "./config.js";
export { flushAlerts, raiseAlert, RECONCILER_FACILITY_ID, type AlertKind } from "./alerts.js";
export { locate, startLocator } from "./locator.js";
export {
  matchPatient,
  identityChanges,
  type Intake,
  type MatchOutcome,
  type PatientInput,
} from "./matcher.js";
export { blockingKeys, candidates, MAX_BLOCK_SIZE, neighborhood } from "./mpi-store.js";
export { patientToRecord, recordKey } from "./patient-record.js";
export { applyEnvelope, createPipeline, extractPatient } from "./pipeline.js";
export {
  decide,
  listAlerts,
  showAlert,
  ReviewError,
  type AlertDetail,
  type AlertSummary,
  type ReviewActionName,
  type ReviewInput,
  type ReviewResult,
} from "./review.js";
export { DEFAULT_RULE_VERSION, RULES, bitsFor, probability, ruleFor, type Rule } from "./rules.js";
export { shadowRun, type ShadowReport } from "./shadow.js";
