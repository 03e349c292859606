import type { Delimiters } from "./delimiters.js";
import { DEFAULT_DELIMITERS, readDelimiters } from "./delimiters.js";
import { Hl7ParseError } from "./errors.js";
import type { Hl7Message } from "./message.js";
import { buildMessage, ENVELOPE_IDS, toSegment } from "./parse.js";
import { parsePath } from "./path.js";
import { scan } from "./scan.js";
import type { Hl7Segment, Hl7Value } from "./segment.js";

/** One batch: BHS … BTS around its messages; both are absent in an unenveloped stream. */
export interface Hl7BatchGroup {
  /** BHS (batch header); BHS-11 is the batch control id. */
  readonly header: Hl7Segment | undefined;
  /** BTS (batch trailer); BTS-1 is the message count the sender claims. */
  readonly trailer: Hl7Segment | undefined;
  readonly messages: Hl7Message[];
}

/**
 * What `parseBatch` returns: an optional file envelope (FHS … FTS), batches, and every message
 * in order (`messages`). HL7 v2.5 §2.10.3: `[FHS] { [BHS] { MSH … } [BTS] } [FTS]`.
 */
export class Hl7Batch {
  constructor(
    /** Text before the first segment (BOM, blank lines). */
    readonly leading: string,
    readonly fileHeader: Hl7Segment | undefined,
    readonly batches: readonly Hl7BatchGroup[],
    readonly fileTrailer: Hl7Segment | undefined,
  ) {}

  /** Every message of every batch, in order. */
  get messages(): Hl7Message[] {
    return this.batches.flatMap((b) => b.messages);
  }

  /** Decoded value from an envelope segment: `get("FHS-9")`, `get("BHS[2]-11")`, `get("BTS-1")`. */
  get(path: string): Hl7Value {
    const p = parsePath(path);
    const found = this.envelopeSegments().filter((s) => s.id === p.segment);
    return found[(p.occurrence ?? 1) - 1]?.get(p);
  }

  /** FHS, BHS, BTS and FTS segments in order. */
  envelopeSegments(): Hl7Segment[] {
    const out: Hl7Segment[] = [];
    if (this.fileHeader !== undefined) out.push(this.fileHeader);
    for (const b of this.batches) {
      if (b.header !== undefined) out.push(b.header);
      if (b.trailer !== undefined) out.push(b.trailer);
    }
    if (this.fileTrailer !== undefined) out.push(this.fileTrailer);
    return out;
  }
}

/**
 * Parses a file or batch (`FHS`/`BHS`/`BTS`/`FTS` envelopes) or an unenveloped stream of
 * messages, one after another. Each message keeps its own delimiters (its own MSH-1/MSH-2).
 * A missing BTS/FTS at the end is tolerated; envelopes out of order are not (`hl7.bad_batch`),
 * nor segments before the first MSH of a batch (`hl7.no_msh`).
 */
export function parseBatch(text: string): Hl7Batch {
  const { leading, segments } = scan(text);
  if (segments.length === 0) throw new Hl7ParseError("hl7.empty", undefined, "no segment found");
  let fileHeader: Hl7Segment | undefined;
  let fileTrailer: Hl7Segment | undefined;
  const batches: Hl7BatchGroup[] = [];
  let open:
    { header: Hl7Segment | undefined; trailer: Hl7Segment | undefined; messages: Hl7Message[] } | undefined;
  let openIsExplicit = false;
  let current: Delimiters = DEFAULT_DELIMITERS;

  const badBatch = (i: number, id: string, what: string): Hl7ParseError =>
    new Hl7ParseError("hl7.bad_batch", { segmentIndex: i + 1, segmentId: id }, what);
  const envelope = (i: number): Hl7Segment => {
    const raw = segments[i]!;
    const id = raw.text.slice(0, 3);
    // FHS/BHS declare delimiters like MSH; BTS/FTS use those of the header or message before them.
    if (id === "FHS" || id === "BHS") current = readDelimiters(raw.text, i + 1);
    return toSegment(raw, current, i + 1);
  };

  let i = 0;
  while (i < segments.length) {
    const id = segments[i]!.text.slice(0, 3);
    if (fileTrailer !== undefined) throw badBatch(i, id, "segment after FTS");
    if (id === "FHS") {
      if (i !== 0) throw badBatch(i, id, "FHS must be the first segment");
      fileHeader = envelope(i++);
    } else if (id === "BHS") {
      if (openIsExplicit) throw badBatch(i, id, "BHS inside a batch that has no BTS yet");
      if (open !== undefined) batches.push(open);
      open = { header: envelope(i++), trailer: undefined, messages: [] };
      openIsExplicit = true;
    } else if (id === "BTS") {
      if (!openIsExplicit || open === undefined) throw badBatch(i, id, "BTS without BHS");
      open.trailer = envelope(i++);
      batches.push(open);
      open = undefined;
      openIsExplicit = false;
    } else if (id === "FTS") {
      if (fileHeader === undefined) throw badBatch(i, id, "FTS without FHS");
      if (openIsExplicit) throw badBatch(i, id, "FTS inside a batch that has no BTS yet");
      fileTrailer = envelope(i++);
    } else {
      // A message: MSH up to the next MSH or envelope segment. buildMessage rejects a non-MSH start.
      let end = i + 1;
      while (end < segments.length && !ENVELOPE_IDS.has(segments[end]!.text.slice(0, 3))) end++;
      const msg = buildMessage(segments, i, end, 0);
      if (open === undefined) open = { header: undefined, trailer: undefined, messages: [] };
      open.messages.push(msg);
      current = msg.delimiters;
      i = end;
    }
  }
  if (open !== undefined) batches.push(open);
  return new Hl7Batch(leading, fileHeader, batches, fileTrailer);
}
