import { randomBytes } from "node:crypto";

/**
 * A name no other test run uses: `HIX_T_<prefix>_<random>`. Only `[A-Za-z0-9_]`, so it is a
 * valid JetStream stream/consumer/KV/object-store name (no `.`, `*`, `>`, spaces or path
 * separators) and a PostgreSQL identifier (kept under its 63-byte limit).
 */
export function uniqueName(prefix: string): string {
  const clean = prefix.replace(/[^A-Za-z0-9_]/g, "_").slice(0, 32) || "x";
  const random = randomBytes(6).toString("hex");
  return `HIX_T_${clean}_${random}`;
}
