// Defensive readers for untrusted JSON: a field typed `string` by the FHIR types may
// still arrive as a number or an object. Mapping code reads through these so a
// malformed resource yields "absent" rather than a TypeError.

export function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

export function str(x: unknown): string {
  return typeof x === "string" ? x : "";
}

export function optStr(x: unknown): string | undefined {
  return typeof x === "string" && x !== "" ? x : undefined;
}

export function list(x: unknown): unknown[] {
  return Array.isArray(x) ? (x as unknown[]) : x === undefined || x === null ? [] : [x];
}

export function strings(x: unknown): string[] {
  return list(x).filter((s): s is string => typeof s === "string");
}

export function num(x: unknown): number | undefined {
  return typeof x === "number" && Number.isFinite(x) ? x : undefined;
}

/** Optional fields may be given as undefined; compact drops them. */
export type Loose<T> = { [K in keyof T]?: T[K] | undefined };

/** Drops keys whose value is undefined, "" or [] so that emitted FHIR has no empty elements. */
export function compact<T extends object>(value: Loose<T>): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined || v === "" || (Array.isArray(v) && v.length === 0)) continue;
    out[k] = v;
  }
  return out as T;
}
