import { DEFAULT_DELIMITERS } from "../delimiters.js";
import { escapeValue } from "../escape.js";

// Building ER7 text with the default delimiters `|^~\&`. Every value goes through `esc`;
// the joiners drop trailing empty parts so the output has no `^^^` tails.

/** One primitive value, escaped (HL7 v2.5 §2.7); a line break becomes the FT break `\.br\`. */
export function esc(value: string | undefined): string {
  if (value === undefined || value === "") return "";
  return value
    .split(/\r\n|\r|\n/)
    .map((line) => escapeValue(line, DEFAULT_DELIMITERS))
    .join("\\.br\\");
}

function joinTrimmed(parts: readonly string[], sep: string): string {
  let end = parts.length;
  while (end > 0 && parts[end - 1] === "") end--;
  return parts.slice(0, end).join(sep);
}

/** Components (already encoded) joined with `^`. */
export function comp(...parts: string[]): string {
  return joinTrimmed(parts, "^");
}

/** Subcomponents (already encoded) joined with `&`. */
export function sub(...parts: string[]): string {
  return joinTrimmed(parts, "&");
}

/** Repetitions (already encoded) joined with `~`, empty ones dropped. */
export function rep(parts: readonly string[]): string {
  return parts.filter((p) => p !== "").join("~");
}

/** A segment: id and fields 1..n (already encoded), trailing empty fields dropped. */
export function segment(id: string, fields: readonly string[]): string {
  return joinTrimmed([id, ...fields], "|");
}

/** Field list builder addressed by HL7 field number (1-based), for readable writers. */
export class Fields {
  private readonly f: string[] = [];
  set(n: number, encoded: string): this {
    while (this.f.length < n) this.f.push("");
    this.f[n - 1] = encoded;
    return this;
  }
  toSegment(id: string): string {
    return segment(id, this.f);
  }
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** An instant as DTM in UTC with an explicit offset: `YYYYMMDDHHMMSS[.SSS]+0000`. */
export function dtm(d: Date | undefined): string {
  if (d === undefined) return "";
  const ms = d.getUTCMilliseconds();
  return (
    pad(d.getUTCFullYear(), 4) +
    pad(d.getUTCMonth() + 1) +
    pad(d.getUTCDate()) +
    pad(d.getUTCHours()) +
    pad(d.getUTCMinutes()) +
    pad(d.getUTCSeconds()) +
    (ms === 0 ? "" : `.${pad(ms, 3)}`) +
    "+0000"
  );
}
