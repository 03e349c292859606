/**
 * PHI redaction for log records: the one list of keys whose values never reach a log.
 * A log call may be handed a whole patient, envelope or request by mistake; every value
 * under one of these keys, at any depth, is replaced before the line is written.
 * Byte arrays become their length. Log ids, sizes and hashes instead.
 */
export const PHI_KEYS: ReadonlySet<string> = new Set(
  [
    "patient",
    "patients",
    "name",
    "names",
    "given",
    "family",
    "middle",
    "prefix",
    "suffix",
    "birthDate",
    "birth_date",
    "dob",
    "deceased",
    "identifier",
    "identifiers",
    "ssn",
    "mrn",
    "address",
    "addresses",
    "addressLine",
    "line",
    "city",
    "postalCode",
    "telecom",
    "phone",
    "email",
    "criteria",
    "payload",
    "body",
    "records",
    "content",
    "text",
    "note",
    "notes",
    "summary",
    "reason",
  ].map((k) => k.toLowerCase()),
);

export const REDACTED = "[redacted]";
const MAX_DEPTH = 8;

/** Returns a copy of `value` with PHI keys replaced; never mutates the input. */
export function redactPhi(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== "object") return value;
  if (value instanceof Uint8Array) return `[${value.byteLength} bytes]`;
  if (value instanceof Error) return value;
  if (value instanceof Date) return value;
  if (depth >= MAX_DEPTH) return "[depth limit]";
  if (Array.isArray(value)) return value.map((item) => redactPhi(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    out[key] = PHI_KEYS.has(key.toLowerCase()) ? REDACTED : redactPhi(child, depth + 1);
  }
  return out;
}
