import { Hl7ParseError } from "./errors.js";

/**
 * The delimiters a message declares in MSH-1 and MSH-2 (HL7 v2.5 §2.5.4). A delimiter the
 * message does not declare (legacy senders sometimes send only 3 encoding characters) is ""
 * and that level of structure does not exist in the message.
 */
export interface Delimiters {
  /** MSH-1, `|` by default. */
  readonly field: string;
  /** MSH-2 position 1, `^` by default. */
  readonly component: string;
  /** MSH-2 position 2, `~` by default. */
  readonly repetition: string;
  /** MSH-2 position 3, `\` by default. */
  readonly escape: string;
  /** MSH-2 position 4, `&` by default. */
  readonly subcomponent: string;
  /** MSH-2 position 5, `#` when present (truncation character, v2.7+); "" otherwise. */
  readonly truncation: string;
}

/** `|^~\&` — what HL7 recommends and nearly every sender uses. */
export const DEFAULT_DELIMITERS: Delimiters = Object.freeze({
  field: "|",
  component: "^",
  repetition: "~",
  escape: "\\",
  subcomponent: "&",
  truncation: "",
});

/** MSH-2 as it appears in a message with these delimiters. */
export function encodingCharacters(d: Delimiters): string {
  return d.component + d.repetition + d.escape + d.subcomponent + d.truncation;
}

const cache = new Map<string, Delimiters>();

/**
 * Reads the delimiters of a header segment (MSH, BHS or FHS) from its text: the 4th character
 * is the field separator and the encoding characters run up to the next field separator.
 * `segmentIndex` is only used to say where a problem is.
 */
export function readDelimiters(segment: string, segmentIndex: number): Delimiters {
  const id = segment.slice(0, 3);
  const field = segment.charAt(3);
  let end = segment.indexOf(field, 4);
  if (end < 0) end = segment.length;
  const enc = segment.slice(4, end);
  const key = field + enc;
  const known = cache.get(key);
  if (known !== undefined) return known;
  const bad = (what: string, fieldNo: number): Hl7ParseError =>
    new Hl7ParseError("hl7.bad_delimiters", { segmentIndex, segmentId: id, field: fieldNo }, what);
  if (field === "" || !isDelimiterChar(field)) throw bad("field separator missing or not a delimiter", 1);
  // Four encoding characters are required by the standard, but v2.1-era senders in the wild
  // send three (no sub-components); one or two cannot even express components and repetitions.
  if (enc.length < 3 || enc.length > 5) throw bad("expected 3 to 5 encoding characters", 2);
  const seen = new Set<string>([field]);
  for (const c of enc) {
    if (!isDelimiterChar(c) || seen.has(c)) throw bad("encoding characters must be distinct delimiters", 2);
    seen.add(c);
  }
  const d: Delimiters = Object.freeze({
    field,
    component: enc.charAt(0),
    repetition: enc.charAt(1),
    escape: enc.charAt(2),
    subcomponent: enc.charAt(3),
    truncation: enc.charAt(4),
  });
  if (cache.size < 64) cache.set(key, d);
  return d;
}

/** Letters, digits, whitespace and line breaks cannot delimit anything. */
function isDelimiterChar(c: string): boolean {
  const n = c.charCodeAt(0);
  if (n <= 0x20 || n === 0x7f) return false;
  if ((n >= 0x30 && n <= 0x39) || (n >= 0x41 && n <= 0x5a) || (n >= 0x61 && n <= 0x7a)) return false;
  return true;
}
