import type { Delimiters } from "./delimiters.js";
import { escapeValue, unescapeValue } from "./escape.js";
import { Hl7PathError } from "./errors.js";
import type { Hl7Path } from "./path.js";
import { nthPiece, replacePiece } from "./path.js";

/** A decoded primitive value: the text, `null` for the HL7 null `""`, `undefined` when not valued. */
export type Hl7Value = string | null | undefined;

/**
 * One segment, kept as its original text: reading a field only locates field separators up to
 * that field (remembered for the next read), and the segment is split and re-joined only if
 * something is written — so reading is cheap and an untouched segment
 * serializes to exactly the bytes it was parsed from.
 */
export class Hl7Segment {
  /** Text that ended this segment in the source (CR, LF, CRLF, plus any blank lines); "" at end of input. */
  terminator: string;
  /** True for MSH, BHS and FHS, whose field 1 is the field separator itself and field 2 the encoding characters. */
  readonly isHeader: boolean;
  private text: string | undefined;
  /** Set once a field was written; then the fields are the truth and `text` is rebuilt on demand. */
  private parts: string[] | undefined;
  /** Offsets of the field separators found so far in `text` (read mode). */
  private seps: number[] | undefined;
  private scannedAll = false;

  constructor(
    /** Segment id, e.g. `PID` or `ZPD`. */
    readonly id: string,
    text: string,
    /** Delimiters of the message (or envelope) this segment belongs to. */
    readonly delimiters: Delimiters,
    terminator = "",
  ) {
    this.text = text;
    this.terminator = terminator;
    this.isHeader = id === "MSH" || id === "BHS" || id === "FHS";
  }

  private split(): string[] {
    if (this.parts === undefined) {
      this.parts = this.text!.split(this.delimiters.field);
      this.seps = undefined;
    }
    return this.parts;
  }

  /** Piece `i` of the text split by the field separator, finding separators only as far as needed. */
  private piece(i: number): string {
    const text = this.text!;
    const seps = (this.seps ??= []);
    const fs = this.delimiters.field;
    while (seps.length < i + 1 && !this.scannedAll) {
      const at = text.indexOf(fs, seps.length === 0 ? 0 : seps[seps.length - 1]! + 1);
      if (at < 0) this.scannedAll = true;
      else seps.push(at);
    }
    if (i > seps.length) return "";
    const start = i === 0 ? 0 : seps[i - 1]! + 1;
    const end = i < seps.length ? seps[i]! : text.length;
    return text.slice(start, end);
  }

  private partIndex(field: number): number {
    return this.isHeader ? field - 1 : field;
  }

  /** Number of the last field present (trailing empty fields count). */
  get fieldCount(): number {
    const n = this.split().length - 1;
    return this.isHeader ? n + 1 : n;
  }

  /** Field `n` (1-based, HL7 numbering) as encoded text; "" when absent. */
  field(n: number): string {
    if (this.isHeader) {
      if (n === 1) return this.delimiters.field;
      n--;
    }
    return this.parts === undefined ? this.piece(n) : (this.parts[n] ?? "");
  }

  /** Replaces field `n` with already encoded text. MSH-1/MSH-2 cannot be replaced. */
  setField(n: number, encoded: string): void {
    if (this.isHeader && n <= 2) {
      throw new Hl7PathError(
        "hl7.read_only",
        `${this.id}-${n}`,
        "delimiters are fixed when the message is parsed",
      );
    }
    const parts = this.split();
    const i = this.partIndex(n);
    while (parts.length <= i) parts.push("");
    parts[i] = encoded;
    this.text = undefined;
  }

  /**
   * Encoded text at a path inside this segment, descending only as deep as the path says
   * (levels above the deepest given one default to 1). `PID-5` → the whole field.
   */
  getRaw(p: Hl7Path): string {
    const d = this.delimiters;
    let v = this.field(p.field);
    if (this.isHeader && p.field <= 2) return v;
    const depth = depthOf(p);
    if (depth >= 1) v = nthPiece(v, d.repetition, p.repetition ?? 1);
    if (depth >= 2) v = nthPiece(v, d.component, p.component ?? 1);
    if (depth >= 3) v = nthPiece(v, d.subcomponent, p.subcomponent ?? 1);
    return v;
  }

  /**
   * Decoded primitive at a path, defaulting repetition, component and subcomponent to 1
   * (HAPI Terser convention: `PID-5` reads PID-5[1].1.1, the family name).
   */
  get(p: Hl7Path): Hl7Value {
    const d = this.delimiters;
    const v = this.field(p.field);
    if (this.isHeader && p.field <= 2) return v;
    if (v === "") return undefined;
    return decode(primitive(v, d, p.repetition ?? 1, p.component ?? 1, p.subcomponent ?? 1), d);
  }

  /** Decoded primitives of every repetition of the field (or the one given; `undefined` for an empty field), component/subcomponent defaulting to 1. */
  getAll(p: Hl7Path, out: Hl7Value[]): void {
    const d = this.delimiters;
    const f = this.field(p.field);
    if (this.isHeader && p.field <= 2) {
      out.push(f);
      return;
    }
    if (f === "") {
      out.push(undefined); // one entry per segment occurrence, so lists from one segment line up
      return;
    }
    const reps =
      p.repetition !== undefined ? [nthPiece(f, d.repetition, p.repetition)] : splitBy(f, d.repetition);
    for (const r of reps) {
      const v = nthPiece(nthPiece(r, d.component, p.component ?? 1), d.subcomponent, p.subcomponent ?? 1);
      out.push(decode(v, d));
    }
  }

  /** Writes encoded text at exactly the level the path names (see `getRaw`). */
  setRaw(p: Hl7Path, encoded: string, path: string): void {
    this.write(p, encoded, depthOf(p), path);
  }

  /** Writes a value at the primitive the path names (levels default to 1), escaping it; `null` writes the HL7 null `""`. */
  set(p: Hl7Path, value: string | null, path: string): void {
    this.write(p, value === null ? '""' : escapeValue(value, this.delimiters), 3, path);
  }

  private write(p: Hl7Path, encoded: string, depth: number, path: string): void {
    if (this.isHeader && p.field <= 2) {
      throw new Hl7PathError("hl7.read_only", path, "delimiters are fixed when the message is parsed");
    }
    const d = this.delimiters;
    const f = this.field(p.field);
    if (depth === 0) return this.setField(p.field, encoded);
    const r = p.repetition ?? 1;
    const c = p.component ?? 1;
    const rep = nthPiece(f, d.repetition, r);
    let newRep = encoded;
    if (depth >= 2) {
      const comp = nthPiece(rep, d.component, c);
      const newComp =
        depth >= 3 ? replacePiece(comp, d.subcomponent, p.subcomponent ?? 1, encoded, path) : encoded;
      newRep = replacePiece(rep, d.component, c, newComp, path);
    }
    this.setField(p.field, replacePiece(f, d.repetition, r, newRep, path));
  }

  /** The segment as ER7 text, without its terminator. */
  toString(): string {
    if (this.text === undefined) this.text = this.parts!.join(this.delimiters.field);
    return this.text;
  }
}

function depthOf(p: Hl7Path): number {
  if (p.subcomponent !== undefined) return 3;
  if (p.component !== undefined) return 2;
  if (p.repetition !== undefined) return 1;
  return 0;
}

function splitBy(s: string, sep: string): string[] {
  return sep === "" ? [s] : s.split(sep);
}

function decode(v: string, d: Delimiters): Hl7Value {
  if (v === "") return undefined;
  if (v === '""') return null;
  return unescapeValue(v, d);
}

/**
 * The repetition/component/subcomponent of an encoded field, narrowing one pair of bounds
 * instead of slicing at every level (this is the hot path of every read).
 */
function primitive(f: string, d: Delimiters, rep: number, comp: number, sub: number): string {
  let start = 0;
  let end = f.length;
  for (let level = 0; level < 3; level++) {
    const sep = level === 0 ? d.repetition : level === 1 ? d.component : d.subcomponent;
    const n = level === 0 ? rep : level === 1 ? comp : sub;
    if (sep === "") {
      if (n !== 1) return "";
      continue;
    }
    for (let k = 1; k < n; k++) {
      const i = f.indexOf(sep, start);
      if (i < 0 || i >= end) return "";
      start = i + 1;
    }
    const i = f.indexOf(sep, start);
    if (i >= 0 && i < end) end = i;
  }
  return start === 0 && end === f.length ? f : f.slice(start, end);
}
