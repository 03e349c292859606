/** Where in a message a problem was found. Positions only — never content (PHI rule). */
export interface Hl7Location {
  /** 1-based position of the segment in the text (after blank lines are skipped). */
  readonly segmentIndex: number;
  /** The segment id when it is a well-formed id (3 characters); omitted otherwise. */
  readonly segmentId?: string;
  /** 1-based field number (HL7 numbering: MSH-1 is the field separator). */
  readonly field?: number;
}

/** Machine-readable reasons a text is not a parseable HL7 v2 message or batch. */
export type Hl7ParseErrorCode =
  /** No MSH segment where a message must start (HL7 v2.5 §2.5: a message begins with MSH). */
  | "hl7.no_msh"
  /** A segment id is not three upper-case letters/digits followed by the field separator. */
  | "hl7.bad_segment_id"
  /** MSH-1/MSH-2 (or FHS/BHS-1/2) do not define a usable, distinct set of delimiters. */
  | "hl7.bad_delimiters"
  /** `parse` was given a stream of several messages or a batch envelope; use `parseBatch`. */
  | "hl7.multiple_messages"
  /** FHS/BHS/BTS/FTS envelope segments out of order (e.g. BHS inside an open batch). */
  | "hl7.bad_batch"
  /** The input holds no segment at all. */
  | "hl7.empty";

/** The text is not HL7 v2 ER7 that this codec can read. The message says what and where, never the content. */
export class Hl7ParseError extends Error {
  override readonly name = "Hl7ParseError";
  readonly retryable = false;
  constructor(
    readonly code: Hl7ParseErrorCode,
    readonly location: Hl7Location | undefined,
    what: string,
  ) {
    super(`${code}: ${what}${location === undefined ? "" : ` (${describeLocation(location)})`}`);
  }
}

/** Reasons a path cannot be read or written. */
export type Hl7PathErrorCode =
  /** The path string does not follow `SEG[occ]-field[rep].component.subcomponent`. */
  | "hl7.bad_path"
  /** `set` addressed a segment occurrence the message does not have. */
  | "hl7.no_segment"
  /** `set` addressed MSH-1/MSH-2 (delimiters) or a level the message's encoding characters cannot express. */
  | "hl7.read_only";

/** A path given to get/set is malformed or cannot be written. Paths hold no PHI, so they are quoted. */
export class Hl7PathError extends Error {
  override readonly name = "Hl7PathError";
  readonly retryable = false;
  constructor(
    readonly code: Hl7PathErrorCode,
    readonly path: string,
    what: string,
  ) {
    super(`${code}: ${what} (path ${JSON.stringify(path.slice(0, 40))})`);
  }
}

function describeLocation(l: Hl7Location): string {
  let s = `segment ${l.segmentIndex}`;
  if (l.segmentId !== undefined) s += ` ${l.segmentId}`;
  if (l.field !== undefined) s += `, field ${l.field}`;
  return s;
}
