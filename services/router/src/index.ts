// @hix/router: the service (start) and the pieces the `hix` CLI reuses to manage the
// directory, inspect the audit ledger and follow record requests.
export {
  MIGRATIONS_DIR,
  migrateRouterSchema,
  openRouterDatabase,
  start,
  type RouterDeps,
  type RunningRouter,
} from "./app.js";
export { ROUTER_CONCURRENCY, routerConfigSchema, type RouterConfig } from "./config.js";
export {
  DIRECTORY_CHANNEL,
  disclosureAction,
  getFacility,
  listFacilities,
  openDirectory,
  saveFacility,
  setFacilityStatus,
  type FacilityDirectory,
} from "./directory.js";
export {
  GENESIS_HASH,
  auditRowToJson,
  patientRefHash,
  rowHash,
  searchLedger,
  verifyLedger,
  type AuditEntry,
  type AuditRow,
  type SearchCriteria,
  type VerifyResult,
} from "./audit-ledger.js";
export { requestStatus, sweepExpired, type RequestStatus } from "./request-tracker.js";
export { REJECTION_CODES, RouterRejection, type RejectionCode } from "./errors.js";
export { DISCLOSURE_HEADER } from "./pipeline.js";
export { SYSTEM_SENDER, receiptMsgId } from "./receipts.js";
export { locateSubject } from "./locate.js";
