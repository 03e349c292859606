import { pino, type DestinationStream, type Logger, type LevelWithSilent } from "pino";
import { redactPhi } from "./redact.js";

export type { Logger } from "pino";

export interface LoggerOptions {
  /** Service name, e.g. `router`; appears as `service` on every line. */
  readonly service: string;
  readonly level?: LevelWithSilent;
  /** Where lines go; stdout when absent. Tests pass a stream to read lines back. */
  readonly destination?: DestinationStream;
}

/**
 * The one logger of a service, made in main.ts and passed down with `child({ component })`.
 * Constant messages, variables in fields, errors under `err`. Every merged object goes
 * through PHI redaction (see redact.ts), so a patient handed to a log call prints no
 * name, birth date or identifier.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level ?? "info",
      base: { service: options.service },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => redactPhi(object) as Record<string, unknown>,
      },
      serializers: { err: serializeError },
    },
    options.destination,
  );
}

/**
 * Errors are logged by name, code, retryable and stack; their messages are ours and
 * carry no PHI by rule. Causes are followed one level (names and codes only).
 */
function serializeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err) };
  const out: Record<string, unknown> = { type: err.name, message: err.message, stack: err.stack };
  if ("code" in err) out["code"] = err.code;
  if ("retryable" in err) out["retryable"] = err.retryable;
  if (err.cause instanceof Error) {
    out["cause"] = { type: err.cause.name, ...("code" in err.cause ? { code: err.cause.code } : {}) };
  }
  return out;
}
