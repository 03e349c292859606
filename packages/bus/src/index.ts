export {
  MESSAGE_KINDS,
  SUBJECT_CATALOG,
  assertToken,
  createTopology,
  defaultTopology,
  type MessageKind,
  type StreamSpec,
  type SubjectEntry,
  type Topology,
} from "./topology.js";
export { DEFAULT_STREAM_OPTIONS, StreamConfigError, ensureStreams, type StreamOptions } from "./streams.js";
export { PublishError, publish, type PublishOptions } from "./publish.js";
export { ack, exponentialBackoff, outcomeFromError, reject, retry, type Outcome } from "./outcome.js";
export {
  ensureConsumer,
  startConsumer,
  type ConsumerOptions,
  type ConsumerStats,
  type Delivery,
  type Handler,
  type RunningConsumer,
} from "./consumer.js";
export {
  DLQ_HEADERS,
  REPLAY_HEADER,
  ReplayError,
  listDeadLetters,
  readDeadLetter,
  replayDeadLetter,
  writeDeadLetter,
  type DeadLetter,
  type DeadLetterInput,
} from "./dead-letter.js";
export { kvIdempotencyStore, memoryIdempotencyStore, type IdempotencyStore } from "./idempotency.js";
export { connectBus, type BusConnectOptions } from "./connect.js";
export { inFlightWindow, type InFlightWindow } from "./in-flight-window.js";
export { envelopeHandler, publishEnvelope, subjectKind } from "./envelopes.js";
export {
  createBatchedPublisher,
  jetStreamPublish,
  type BatchedPublisher,
  type PubAck,
  type Publish,
} from "./batched-publisher.js";
