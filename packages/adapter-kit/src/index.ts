// @hix/adapter-kit: what a facility adapter is made of — transports (MLLP, inbox folder,
// FHIR HTTP), the facility profile, hooks, intake (convert → envelopes → submit → ACK),
// outbound delivery, record stores that answer RecordRequests, and the conformance suite.
export { frame, MllpDecoder, MllpError, startMllpServer, connectMllp, VT, FS, CR } from "./mllp.js";
export type {
  MllpServer,
  MllpServerOptions,
  MllpClient,
  MllpClientOptions,
  MllpConnectionInfo,
} from "./mllp.js";
export {
  FacilityProfileSchema,
  INBOUND_FORMATS,
  OUTBOUND_FORMATS,
  PURPOSES,
  ProfileError,
  loadProfile,
  parseProfile,
} from "./profile.js";
export type {
  FacilityProfile,
  FacilityProfileInput,
  InboundFormat,
  LoadedProfile,
  OutboundFormat,
} from "./profile.js";
export { HooksError, loadHooks, type Hooks } from "./hooks.js";
export { applyCodeMaps, type CodeMaps } from "./code-maps.js";
export {
  bodyToJson,
  convertInbound,
  formatFromFileName,
  renderOutbound,
  type ConvertContext,
  type Rendered,
} from "./codecs.js";
export { contentId, deterministicId, hl7TimeToMs, type MessageKey } from "./message-id.js";
export { moveInto, quarantine, reasonText, type Reason } from "./quarantine.js";
export {
  AdapterError,
  ackCode,
  createDocumentIntake,
  createHl7Intake,
  envelopesFor,
  errLocation,
  purposeOf,
  type DocumentResult,
  type IntakeDeps,
  type IntakeEvent,
  type SeenStore,
  type Submit,
} from "./intake.js";
export { startInbox, type Inbox, type InboxEvent, type InboxOptions } from "./inbox.js";
export { startFhirEndpoint, type FhirEndpoint, type FhirEndpointOptions } from "./fhir-http.js";
export {
  RecordStoreError,
  folderRecordStore,
  matchesPatient,
  postgresRecordStore,
  postgresRecordTableSql,
  type RecordStore,
  type StoredRecord,
} from "./record-store.js";
export { answerRecordRequest, decide, onlyCategories, type PolicyDecision } from "./answer.js";
export { DeliveryError, createDeliverer, type Deliverer } from "./deliver.js";
export { runConformance, type CheckResult, type ConformanceReport } from "./conformance.js";
export { ScaffoldError, scaffoldAdapter } from "./scaffold.js";
