import type { Delimiters } from "./delimiters.js";

// HL7 v2.5 §2.7 escape sequences. Inside a value, `\F\ \S\ \T\ \R\ \E\` stand for the field,
// component, subcomponent, repetition and escape characters (`\P\` for the v2.7 truncation
// character), `\Xhh..\` for raw bytes, and `\.br\ \.sp\ \H\ \N\ ...` (§2.7.6, FT data type) for
// formatting. Escape sequences use the message's own escape character.

const utf8 = new TextDecoder("utf-8");

/**
 * Decodes the escape sequences in one primitive value (a component or subcomponent, never a
 * whole field: `\S\` decodes to a component separator that is then just text).
 * Formatting: `\.br\` → newline, `\.sp n\` → n newlines (at least one), `\.sk n\` → n spaces;
 * highlighting `\H\ \N\` and layout-only instructions (`\.fi\ \.nf\ \.in\ \.ti\ \.ce\`) are dropped.
 * Anything not recognised (local `\Z..\`, charset switches `\C..\ \M..\`, a lone escape
 * character) is kept verbatim, so no information is lost.
 */
export function unescapeValue(text: string, d: Delimiters): string {
  const esc = d.escape;
  if (esc === "") return text;
  let i = text.indexOf(esc);
  if (i < 0) return text;
  let out = "";
  let from = 0;
  while (i >= 0) {
    const j = text.indexOf(esc, i + 1);
    if (j < 0) break;
    const decoded = decodeSequence(text.slice(i + 1, j), d);
    if (decoded === undefined) {
      // Not an escape sequence: keep the escape character as text and look again after it.
      i = text.indexOf(esc, i + 1);
      continue;
    }
    out += text.slice(from, i) + decoded;
    from = j + 1;
    i = text.indexOf(esc, from);
  }
  return out + text.slice(from);
}

function decodeSequence(seq: string, d: Delimiters): string | undefined {
  switch (seq) {
    case "F":
      return d.field;
    case "S":
      return d.component;
    case "T":
      return d.subcomponent;
    case "R":
      return d.repetition;
    case "E":
      return d.escape;
    case "P":
      return d.truncation === "" ? undefined : d.truncation;
    case "H":
    case "N":
    case ".fi":
    case ".nf":
    case ".ce":
      return "";
    case ".br":
      return "\n";
  }
  const c = seq.charCodeAt(0);
  if (c === 0x58 /* X */) return decodeHex(seq.slice(1));
  if (c === 0x2e /* . */) {
    const m = /^\.(sp|sk|in|ti)(?: ?([+-]?\d{1,3}))?$/.exec(seq);
    if (m === null) return undefined;
    const n = m[2] === undefined ? 1 : Math.max(0, Number(m[2]));
    if (m[1] === "sp") return "\n".repeat(Math.max(1, n));
    if (m[1] === "sk") return " ".repeat(n);
    return ""; // .in / .ti: indentation has no plain-text meaning
  }
  return undefined;
}

function decodeHex(hex: string): string | undefined {
  if (hex.length === 0 || hex.length % 2 !== 0 || !/^[0-9A-Fa-f]+$/.test(hex)) return undefined;
  const bytes = new Uint8Array(hex.length / 2);
  for (let k = 0; k < bytes.length; k++) bytes[k] = parseInt(hex.substr(k * 2, 2), 16);
  // Plain ASCII needs no decoder; otherwise read the bytes as UTF-8 (the modern default
  // charset; invalid sequences become U+FFFD rather than failing the read).
  if (bytes.every((b) => b < 0x80)) return String.fromCharCode(...bytes);
  return utf8.decode(bytes);
}

/**
 * Encodes text for one primitive value: every delimiter becomes its escape sequence and CR/LF
 * become `\X0D\` / `\X0A\` (a raw line break would end the segment).
 */
export function escapeValue(text: string, d: Delimiters): string {
  let out = "";
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charAt(i);
    let rep: string | undefined;
    if (ch === d.escape) rep = "E";
    else if (ch === d.field) rep = "F";
    else if (ch === d.component) rep = "S";
    else if (ch === d.subcomponent) rep = "T";
    else if (ch === d.repetition) rep = "R";
    else if (ch === d.truncation) rep = "P";
    else if (ch === "\r") rep = "X0D";
    else if (ch === "\n") rep = "X0A";
    if (rep === undefined) continue;
    out += text.slice(from, i) + d.escape + rep + d.escape;
    from = i + 1;
  }
  return from === 0 ? text : out + text.slice(from);
}
