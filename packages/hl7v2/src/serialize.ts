import type { Hl7Batch } from "./batch.js";
import type { Hl7Message } from "./message.js";
import type { Hl7Segment } from "./segment.js";

/** How `serialize` ends segments. */
export interface SerializeOptions {
  /**
   * `"cr"` (default): every segment terminator (LF, CRLF, blank lines) becomes one CR as HL7
   * requires (v2.5 §2.5.2), and text before MSH (BOM, blank lines) is dropped; the last segment
   * ends with CR only if it ended with a line break in the source.
   * `"preserve"`: the exact bytes of the source, including BOM and original line breaks.
   */
  readonly terminators?: "cr" | "preserve";
}

/**
 * Renders a message or batch as ER7 text. Untouched segments are emitted exactly as parsed, so
 * `serialize(parse(text), { terminators: "preserve" }) === text`.
 */
export function serialize(value: Hl7Message | Hl7Batch, options: SerializeOptions = {}): string {
  const preserve = options.terminators === "preserve";
  const segs = "segments" in value ? value.segments : batchSegments(value);
  let out = preserve ? value.leading : "";
  for (const s of segs) out += s.toString() + (preserve ? s.terminator : s.terminator === "" ? "" : "\r");
  return out;
}

function batchSegments(b: Hl7Batch): Hl7Segment[] {
  const out: Hl7Segment[] = [];
  if (b.fileHeader !== undefined) out.push(b.fileHeader);
  for (const g of b.batches) {
    if (g.header !== undefined) out.push(g.header);
    for (const m of g.messages) out.push(...m.segments);
    if (g.trailer !== undefined) out.push(g.trailer);
  }
  if (b.fileTrailer !== undefined) out.push(b.fileTrailer);
  return out;
}
