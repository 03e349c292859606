import type { Delimiters } from "./delimiters.js";
import { Hl7PathError } from "./errors.js";
import { parsePath } from "./path.js";
import type { Hl7Value } from "./segment.js";
import { Hl7Segment } from "./segment.js";

/**
 * One HL7 v2 message: its delimiters and its segments in order, starting with MSH.
 * Paths (`PID-5[1].1`, `OBX[3]-5`, `PID-3[2].4.1`) address values; see `get`, `getRaw`, `set`.
 */
export class Hl7Message {
  private index: Map<string, Hl7Segment[]> | undefined;

  constructor(
    /** Delimiters declared by MSH-1/MSH-2. */
    readonly delimiters: Delimiters,
    /** Segments in order; `segments[0]` is MSH. Use `addSegment` to add one. */
    readonly segments: Hl7Segment[],
    /** Text before MSH in the source (a UTF-8 BOM, blank lines); kept only for exact round-trip. */
    public leading = "",
  ) {}

  /** The MSH segment. */
  get header(): Hl7Segment {
    return this.segments[0]!;
  }

  /** MSH-9 as encoded text, e.g. `ADT^A01^ADT_A01`. */
  get messageType(): string {
    return this.header.field(9);
  }

  /** MSH-10 message control id (decoded). */
  get controlId(): string {
    return this.get("MSH-10") ?? "";
  }

  /** MSH-12.1 version id, e.g. `2.5.1`. */
  get version(): string {
    return this.get("MSH-12") ?? "";
  }

  /** All segments with this id, in order. */
  segmentsById(id: string): readonly Hl7Segment[] {
    if (this.index === undefined) {
      const index = new Map<string, Hl7Segment[]>();
      for (const s of this.segments) {
        const list = index.get(s.id);
        if (list === undefined) index.set(s.id, [s]);
        else list.push(s);
      }
      this.index = index;
    }
    return this.index.get(id) ?? [];
  }

  /** The `occurrence`-th (1-based) segment with this id. */
  segment(id: string, occurrence = 1): Hl7Segment | undefined {
    // A linear scan beats building an index for the few reads a typical mapping does.
    let seen = 0;
    for (const s of this.segments) if (s.id === id && ++seen === occurrence) return s;
    return undefined;
  }

  /**
   * The decoded value at a path: unescaped text, `null` for the HL7 null `""`, `undefined`
   * when not valued or absent. Unwritten levels default to 1, so `PID-5` reads the family
   * name PID-5[1].1.1 (HAPI Terser convention). MSH-1 and MSH-2 return the delimiters.
   */
  get(path: string): Hl7Value {
    const p = parsePath(path);
    return this.segment(p.segment, p.occurrence)?.get(p);
  }

  /**
   * Every decoded value the path matches: all occurrences of the segment unless `[n]` is given,
   * all repetitions of the field unless `[n]` is given. `getAll("PID-3.1")` → every identifier.
   * An empty field yields one `undefined`, so single-valued fields of repeated segments line up.
   */
  getAll(path: string): Hl7Value[] {
    const p = parsePath(path);
    const out: Hl7Value[] = [];
    if (p.occurrence !== undefined) this.segment(p.segment, p.occurrence)?.getAll(p, out);
    else for (const s of this.segmentsById(p.segment)) s.getAll(p, out);
    return out;
  }

  /** The encoded (still escaped) text at exactly the level the path names: `getRaw("MSH-9")` → `ADT^A01`. */
  getRaw(path: string): string | undefined {
    const p = parsePath(path);
    const v = this.segment(p.segment, p.occurrence)?.getRaw(p);
    return v === "" ? undefined : v;
  }

  /**
   * Writes a value at a path (levels default to 1, like `get`), escaping delimiters;
   * `null` writes the HL7 null `""`. Throws `Hl7PathError` for a missing segment or MSH-1/2.
   */
  set(path: string, value: string | null): void {
    const p = parsePath(path);
    this.mustFind(path, p.segment, p.occurrence).set(p, value, path);
  }

  /** Writes already encoded text at exactly the level the path names (`setRaw("PID-5", "DOE^JOHN")`). */
  setRaw(path: string, encoded: string): void {
    const p = parsePath(path);
    this.mustFind(path, p.segment, p.occurrence).setRaw(p, encoded, path);
  }

  /**
   * Appends a new empty segment (or inserts it before `before`, a 0-based index into `segments`)
   * and returns it, ready for `set`.
   */
  addSegment(id: string, before = this.segments.length): Hl7Segment {
    if (!/^[A-Z][A-Z0-9]{2}$/.test(id) || id === "MSH") {
      throw new Hl7PathError(
        "hl7.bad_path",
        id,
        "segment id must be 3 upper-case letters or digits, not MSH",
      );
    }
    const at = Math.max(1, Math.min(before, this.segments.length));
    // Match the terminator style of the neighbour; an appended segment takes over the end of input.
    const prev = this.segments[at - 1]!;
    const seg = new Hl7Segment(id, id, this.delimiters, prev.terminator);
    if (prev.terminator === "") prev.terminator = "\r";
    this.segments.splice(at, 0, seg);
    this.index = undefined;
    return seg;
  }

  private mustFind(path: string, id: string, occurrence: number | undefined): Hl7Segment {
    const s = this.segment(id, occurrence);
    if (s === undefined) throw new Hl7PathError("hl7.no_segment", path, "the message has no such segment");
    return s;
  }
}
