// @hix/proto: the generated types of the hix.v1 wire contract (proto/hix/v1) and
// the few helpers every service needs to put an Envelope on the bus and read it back.
// Generated code lives in ./gen (ts-proto; `pnpm gen` rewrites it, never edit by hand).

export * from "./gen/hix/v1/common.js";
export * from "./gen/hix/v1/patient.js";
export * from "./gen/hix/v1/clinical.js";
export * from "./gen/hix/v1/exchange.js";
export * from "./gen/hix/v1/directory.js";
export * from "./gen/hix/v1/audit.js";
export * from "./gen/hix/v1/reconciliation.js";
export * from "./gen/hix/v1/envelope.js";

export { newId, ulidGenerator, isUlid, ulidTime } from "./ulid.js";
export {
  ProtoDecodeError,
  EnvelopeBodyMissingError,
  encodeEnvelope,
  decodeEnvelope,
  envelopeKind,
  bodyHash,
  hasValidBodyHash,
  newEnvelope,
  unbatch,
} from "./envelope.js";
export type { EnvelopeBody, EnvelopeKind, NewEnvelope } from "./envelope.js";
export { ConversionError, type Conversion, type ConversionWarning } from "./conversion.js";
export { PROTO_DIR, decodeByTypeName, loadContract } from "./reflection.js";
