export { HixError, isRetryable, errorCode } from "./errors.js";
export { ConfigError, loadConfig } from "./config.js";
export { createLogger, type Logger, type LoggerOptions } from "./logger.js";
export { PHI_KEYS, REDACTED, redactPhi } from "./redact.js";
export { runService, stopWithin, type RunningService, type RunServiceOptions } from "./service.js";
