import type { Delimiters } from "./delimiters.js";
import { readDelimiters } from "./delimiters.js";
import { Hl7ParseError } from "./errors.js";
import { Hl7Message } from "./message.js";
import type { RawSegment } from "./scan.js";
import { hasValidId, scan } from "./scan.js";
import { Hl7Segment } from "./segment.js";

/** Segments that start a message or belong to a batch/file envelope (HL7 v2.5 §2.10.3). */
export const ENVELOPE_IDS = new Set(["MSH", "FHS", "BHS", "BTS", "FTS"]);

/**
 * Parses exactly one HL7 v2 message (ER7, "pipe and hat" encoding).
 *
 * Accepts CR, LF or CRLF segment terminators in any mix, a leading UTF-8 BOM, blank lines and
 * any delimiters MSH-1/MSH-2 declare. Fields are split lazily, on first read.
 * Throws `Hl7ParseError` (`hl7.empty`, `hl7.no_msh`, `hl7.bad_delimiters`, `hl7.bad_segment_id`,
 * `hl7.multiple_messages` for streams and batches — use `parseBatch` for those).
 */
export function parse(text: string): Hl7Message {
  const { leading, segments } = scan(text);
  if (segments.length === 0) throw new Hl7ParseError("hl7.empty", undefined, "no segment found");
  const msg = buildMessage(segments, 0, segments.length, 0);
  const segs = msg.segments;
  for (let i = 1; i < segs.length; i++) {
    const id = segs[i]!.id;
    if (ENVELOPE_IDS.has(id)) {
      throw new Hl7ParseError(
        "hl7.multiple_messages",
        { segmentIndex: i + 1, segmentId: id },
        "a second message or a batch envelope; use parseBatch",
      );
    }
  }
  msg.leading = leading;
  return msg;
}

/**
 * Builds a message from `segments[from..to)`, the first of which must be MSH.
 * `base` is added to positions in error locations (the message's offset in a stream).
 */
export function buildMessage(
  segments: readonly RawSegment[],
  from: number,
  to: number,
  base: number,
): Hl7Message {
  const first = segments[from]!;
  if (!first.text.startsWith("MSH")) {
    const id = first.text.slice(0, 3);
    const segmentId = hasValidId(first.text.slice(0, 3), "") ? id : undefined;
    throw new Hl7ParseError(
      "hl7.no_msh",
      segmentId === undefined
        ? { segmentIndex: base + from + 1 }
        : { segmentIndex: base + from + 1, segmentId },
      "a message must start with an MSH segment",
    );
  }
  const d = readDelimiters(first.text, base + from + 1);
  const out = new Array<Hl7Segment>(to - from);
  for (let i = from; i < to; i++) out[i - from] = toSegment(segments[i]!, d, base + i + 1);
  return new Hl7Message(d, out);
}

/** Checks the segment id and wraps the text; nothing is split yet. */
export function toSegment(raw: RawSegment, d: Delimiters, segmentIndex: number): Hl7Segment {
  const text = raw.text;
  if (!hasValidId(text, d.field)) {
    throw new Hl7ParseError(
      "hl7.bad_segment_id",
      { segmentIndex },
      "segment id must be 3 upper-case letters or digits followed by the field separator",
    );
  }
  return new Hl7Segment(text.slice(0, 3), text, d, raw.terminator);
}
