// Splits ER7 text into segments. Segment terminators are CR (the standard, HL7 v2.5 §2.5.2),
// LF or CRLF as files and copy/paste produce, in any mix; blank or whitespace-only lines are
// folded into the preceding terminator so that they survive an exact round-trip.

/** One segment's text and the exact line-break text that followed it. */
export interface RawSegment {
  text: string;
  terminator: string;
}

/** Result of scanning: what came before the first segment (BOM, blank lines) and the segments. */
export interface Scanned {
  leading: string;
  segments: RawSegment[];
}

const CR = 13;
const LF = 10;

export function scan(text: string): Scanned {
  const segments: RawSegment[] = [];
  let leading = "";
  let pos = 0;
  if (text.charCodeAt(0) === 0xfeff) {
    // A UTF-8 BOM, decoded to U+FEFF: not part of the message, kept for exact round-trip.
    leading = "\ufeff";
    pos = 1;
  }
  const n = text.length;
  let nextCr = text.indexOf("\r", pos);
  let nextLf = text.indexOf("\n", pos);
  while (pos < n) {
    // Cached positions of the next CR and LF: searching again only once passed keeps this linear.
    if (nextCr !== -1 && nextCr < pos) nextCr = text.indexOf("\r", pos);
    if (nextLf !== -1 && nextLf < pos) nextLf = text.indexOf("\n", pos);
    let end = nextCr === -1 ? nextLf : nextLf === -1 ? nextCr : Math.min(nextCr, nextLf);
    if (end === -1) end = n;
    let after = end;
    while (after < n) {
      const c = text.charCodeAt(after);
      if (c !== CR && c !== LF) break;
      after++;
    }
    const line = text.slice(pos, end);
    const terminator = text.slice(end, after);
    if (isBlank(line)) {
      const last = segments[segments.length - 1];
      if (last === undefined) leading += line + terminator;
      else last.terminator += line + terminator;
    } else {
      segments.push({ text: line, terminator });
    }
    pos = after;
  }
  return { leading, segments };
}

function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09) return false;
  }
  return true;
}

/** A segment id is 3 upper-case letters/digits, starting with a letter, then the field separator or end. */
export function hasValidId(line: string, fieldSeparator: string): boolean {
  if (line.length < 3) return false;
  const a = line.charCodeAt(0);
  if (a < 0x41 || a > 0x5a) return false;
  for (let i = 1; i < 3; i++) {
    const c = line.charCodeAt(i);
    if (!((c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39))) return false;
  }
  return line.length === 3 || line.charAt(3) === fieldSeparator;
}
