/**
 * @hix/hl7v2 — HL7 v2 ER7 ("pipe and hat") codec: parse, typed path access, serialize, ACK.
 *
 * Pure functions over strings, no I/O. The representation keeps each segment's original text
 * until a field is read or written, which makes parsing fast and round-trips exact:
 * `serialize(parse(text), { terminators: "preserve" }) === text`.
 *
 * ```ts
 * const msg = parse(text);
 * msg.get("PID-5[1].1");     // family name, unescaped
 * msg.getAll("PID-3.1");     // every identifier
 * msg.get("OBX[3]-5");       // third OBX's value
 * msg.set("PID-5.2", "Ann"); // escaped on write
 * serialize(buildAck(msg, { code: "AA" }));
 * ```
 */
export { buildAck } from "./ack.js";
export type { AckCode, AckError, AckOptions, AckSeverity } from "./ack.js";
export { Hl7Batch, parseBatch } from "./batch.js";
export type { Hl7BatchGroup } from "./batch.js";
export { DEFAULT_DELIMITERS, encodingCharacters, readDelimiters } from "./delimiters.js";
export type { Delimiters } from "./delimiters.js";
export { Hl7ParseError, Hl7PathError } from "./errors.js";
export type { Hl7Location, Hl7ParseErrorCode, Hl7PathErrorCode } from "./errors.js";
export { escapeValue, unescapeValue } from "./escape.js";
export { Hl7Message } from "./message.js";
export { parse } from "./parse.js";
export { parsePath } from "./path.js";
export type { Hl7Path } from "./path.js";
export { Hl7Segment } from "./segment.js";
export type { Hl7Value } from "./segment.js";
export { serialize } from "./serialize.js";
export type { SerializeOptions } from "./serialize.js";
export { hl7v2ToCanonical } from "./mapping/to-canonical.js";
export type { Hl7ToCanonicalOptions } from "./mapping/to-canonical.js";
export { canonicalToHl7v2 } from "./mapping/to-hl7v2.js";
export type { CanonicalToHl7Options } from "./mapping/to-hl7v2.js";
export type { CodeMaps } from "./mapping/results.js";
