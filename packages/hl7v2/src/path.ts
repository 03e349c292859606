import { Hl7PathError } from "./errors.js";

/**
 * A parsed location inside a message, e.g. `PID-3[2].4.1` or `OBX[3]-5`:
 * `SEG[occurrence]-field[repetition].component.subcomponent`, all numbers 1-based.
 * A level that is not written is `undefined`; readers decide what that means.
 */
export interface Hl7Path {
  readonly segment: string;
  readonly occurrence: number | undefined;
  readonly field: number;
  readonly repetition: number | undefined;
  readonly component: number | undefined;
  readonly subcomponent: number | undefined;
}

const PATH =
  /^([A-Z][A-Z0-9]{2})(?:\[(\d{1,6})\])?-(\d{1,4})(?:\[(\d{1,6})\])?(?:\.(\d{1,4})(?:\.(\d{1,4}))?)?$/;
const cache = new Map<string, Hl7Path>();

/** Parses a path string; throws `Hl7PathError` (`hl7.bad_path`) when it is malformed. */
export function parsePath(path: string): Hl7Path {
  const hit = cache.get(path);
  if (hit !== undefined) return hit;
  const m = PATH.exec(path);
  if (m === null)
    throw new Hl7PathError("hl7.bad_path", path, "expected SEG[n]-field[rep].component.subcomponent");
  const num = (s: string | undefined): number | undefined => (s === undefined ? undefined : Number(s));
  const p: Hl7Path = Object.freeze({
    segment: m[1]!,
    occurrence: num(m[2]),
    field: Number(m[3]),
    repetition: num(m[4]),
    component: num(m[5]),
    subcomponent: num(m[6]),
  });
  for (const n of [p.occurrence, p.field, p.repetition, p.component, p.subcomponent]) {
    if (n === 0) throw new Hl7PathError("hl7.bad_path", path, "positions are 1-based");
  }
  if (cache.size < 4096) cache.set(path, p);
  return p;
}

/** The n-th (1-based) piece of `s` split by `sep`; "" when there are fewer pieces. No array is built. */
export function nthPiece(s: string, sep: string, n: number): string {
  if (sep === "") return n === 1 ? s : "";
  let start = 0;
  for (let k = 1; k < n; k++) {
    const i = s.indexOf(sep, start);
    if (i < 0) return "";
    start = i + sep.length;
  }
  const end = s.indexOf(sep, start);
  return end < 0 ? s.slice(start) : s.slice(start, end);
}

/** `s` with its n-th piece (split by `sep`) replaced, padding with empty pieces as needed. */
export function replacePiece(s: string, sep: string, n: number, value: string, path: string): string {
  if (sep === "") {
    if (n === 1) return value;
    throw new Hl7PathError("hl7.read_only", path, "the message declares no delimiter for this level");
  }
  const parts = s.split(sep);
  while (parts.length < n) parts.push("");
  parts[n - 1] = value;
  return parts.join(sep);
}
