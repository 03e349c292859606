import { HixError, errorCode, isRetryable } from "@hix/runtime";

/**
 * What a handler decided about one message. The consumer loop maps it, in one place:
 *   ack    → the effect is durable; acknowledge.
 *   retry  → transient failure; nak with backoff, and dead-letter once deliveries are exhausted.
 *   reject → permanent failure; write to the dead-letter stream with the reason, then term.
 * `code` is a stable machine code; `reason` a sentence a person can act on — no PHI.
 */
export type Outcome =
  | { readonly kind: "ack" }
  | { readonly kind: "retry"; readonly code: string; readonly reason: string; readonly delayMs?: number }
  | { readonly kind: "reject"; readonly code: string; readonly reason: string };

const ACK: Outcome = Object.freeze({ kind: "ack" });

export const ack = (): Outcome => ACK;

export const retry = (code: string, reason: string, delayMs?: number): Outcome =>
  delayMs === undefined ? { kind: "retry", code, reason } : { kind: "retry", code, reason, delayMs };

export const reject = (code: string, reason: string): Outcome => ({ kind: "reject", code, reason });

/**
 * Maps a thrown value to an outcome. Our own errors keep their message (written without
 * PHI by rule); foreign errors (a driver's, say) may quote data, so only their name travels.
 */
export function outcomeFromError(err: unknown): Outcome {
  const code = errorCode(err);
  const reason = isOurs(err)
    ? err.message
    : err instanceof Error
      ? `unexpected ${err.name}`
      : "unexpected error";
  return isRetryable(err) ? retry(code, reason) : reject(code, reason);
}

/**
 * Ours: a HixError, or an error following the same convention (string `code` and boolean
 * `retryable`, like the codecs' ConversionError) whose message is PHI-free by rule.
 */
function isOurs(err: unknown): err is Error {
  if (err instanceof HixError) return true;
  return (
    err instanceof Error &&
    "code" in err &&
    typeof err.code === "string" &&
    "retryable" in err &&
    typeof err.retryable === "boolean"
  );
}

/** Exponential backoff with full jitter: delivery 1 → ~base, doubling up to `maxMs`. */
export function exponentialBackoff(baseMs = 500, maxMs = 30_000): (delivery: number) => number {
  return (delivery) => {
    const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, delivery - 1));
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  };
}
