import { Buffer } from "node:buffer";
import { ConversionError, type ConversionWarning, type Document, DocumentStatus } from "@hix/proto";
import { readCode, readPractitioner, v2Table, writeCode, writePractitioner } from "./datatypes.js";
import { composites, first, instant, loc, reps, type Seg, text, value } from "./read.js";
import { comp, dtm, esc, Fields, rep } from "./write.js";

/** HL7 v2 table 0275 document availability status (TXA-19). */
const AVAILABILITY: Record<string, DocumentStatus> = {
  AV: DocumentStatus.CURRENT,
  OB: DocumentStatus.SUPERSEDED,
  CA: DocumentStatus.ENTERED_IN_ERROR,
};
const AVAILABILITY_CODES: Partial<Record<DocumentStatus, string>> = {
  [DocumentStatus.CURRENT]: "AV",
  [DocumentStatus.SUPERSEDED]: "OB",
  [DocumentStatus.ENTERED_IN_ERROR]: "CA",
};

/** ED type of data (HL7 v2 table 0191) ⇄ the top-level media type. */
const TYPE_OF_DATA: Record<string, string> = {
  AP: "application",
  IM: "image",
  AU: "audio",
  TEXT: "text",
  TX: "text",
  NS: "application",
  SD: "application",
  SI: "application",
};
const DATA_TYPES: Record<string, string> = { application: "AP", image: "IM", audio: "AU", text: "TEXT" };

const BASE64 = /^[A-Za-z0-9+/\s]*={0,2}\s*$/;
const HEX = /^(?:[0-9A-Fa-f]{2})*$/;

function decodeEd(obx: Seg): { mediaType: string; bytes: Buffer | undefined } {
  const ed = first(obx, 5);
  const major = ed.c(2);
  const mediaType =
    major === ""
      ? ""
      : `${TYPE_OF_DATA[major.toUpperCase()] ?? major.toLowerCase()}/${ed.c(3).toLowerCase()}`;
  const data = ed.c(5);
  if (data === "") return { mediaType, bytes: undefined };
  const encoding = ed.c(4).toUpperCase();
  const at = `${loc(obx, 5)}.5`;
  if (encoding === "BASE64") {
    if (!BASE64.test(data)) throw new ConversionError("hl7.bad_base64", at, "ED data is not valid base64");
    return { mediaType, bytes: Buffer.from(data, "base64") };
  }
  if (encoding === "HEX") {
    if (!HEX.test(data)) throw new ConversionError("hl7.bad_hex", at, "ED data is not valid hex");
    return { mediaType, bytes: Buffer.from(data, "hex") };
  }
  return { mediaType, bytes: Buffer.from(data, "utf8") };
}

/**
 * TXA + the OBX segments after it → Document (HL7 v2.5.1 §9.6.1 TXA, §9.5 MDM^T02).
 * id TXA-12.1 unique document number, type TXA-2 (table 0270; its text is also the title),
 * created TXA-4 activity time, authors TXA-9, status TXA-19 (table 0275). Content: an OBX of
 * type ED gives its bytes (Base64 / Hex / ASCII) and media type (ED-2 / ED-3); OBX of type
 * TX / FT / ST give lines of text/plain, joined by newlines.
 */
export function readDocument(
  txa: Seg,
  obxs: readonly Seg[],
  encounterId: string,
  warnings: ConversionWarning[],
): Document {
  const doc: Document = {
    id: value(txa, 12),
    title: first(txa, 2).c(2),
    status: AVAILABILITY[value(txa, 19).toUpperCase()] ?? DocumentStatus.UNSPECIFIED,
    authors: composites(txa, 9).flatMap((c) => readPractitioner(c) ?? []),
    mediaType: "",
    language: "",
    encounterId,
  };
  const type = readCode(first(txa, 2), v2Table("0270"));
  if (type !== undefined) doc.type = type;
  const created = instant(value(txa, 4), loc(txa, 4));
  if (created !== undefined) doc.createdAt = created;

  const lines: string[] = [];
  for (const obx of obxs) {
    const vt = value(obx, 2).toUpperCase();
    if (vt === "ED") {
      if (doc.content !== undefined) {
        warnings.push({
          code: "hl7.extra_content",
          location: loc(obx, 5),
          message: "second ED content left out",
        });
        continue;
      }
      const { mediaType, bytes } = decodeEd(obx);
      doc.mediaType = mediaType;
      if (bytes !== undefined) doc.content = { $case: "inline", value: bytes };
    } else if (vt === "TX" || vt === "FT" || vt === "ST" || vt === "") {
      const d = obx.segment.delimiters;
      const r = reps(obx, 5);
      if (r.length === 0) lines.push("");
      for (const line of r) lines.push(text(line, d));
    } else {
      warnings.push({
        code: "hl7.unmapped_value_type",
        location: loc(obx, 2),
        message: `document OBX of value type ${vt.slice(0, 8)} left out`,
      });
    }
  }
  if (doc.content === undefined && lines.length > 0) {
    doc.mediaType = "text/plain";
    doc.content = { $case: "inline", value: Buffer.from(lines.join("\n"), "utf8") };
  }
  return doc;
}

/** Document → TXA + OBX: text/plain content as one TX OBX per line, anything else as one ED OBX (Base64). */
export function writeDocument(doc: Document): string[] {
  if (doc.content?.$case === "attachment") {
    throw new ConversionError(
      "hl7.content_by_reference",
      "Document.content",
      "document bytes are in the object store; fetch them inline before rendering MDM^T02",
    );
  }
  const out = [
    new Fields()
      .set(1, "1")
      .set(2, writeCode(doc.type))
      .set(3, doc.mediaType === "text/plain" ? "TX" : "AP")
      .set(4, dtm(doc.createdAt))
      .set(9, rep(doc.authors.map(writePractitioner)))
      .set(12, esc(doc.id))
      .set(17, "AU")
      .set(19, AVAILABILITY_CODES[doc.status] ?? "")
      .toSegment("TXA"),
  ];
  const bytes = doc.content?.value;
  if (doc.mediaType === "text/plain" && bytes !== undefined) {
    Buffer.from(bytes)
      .toString("utf8")
      .split("\n")
      .forEach((line, i) =>
        out.push(
          new Fields()
            .set(1, String(i + 1))
            .set(2, "TX")
            .set(5, esc(line))
            .set(11, "F")
            .toSegment("OBX"),
        ),
      );
  } else if (doc.mediaType !== "" || bytes !== undefined) {
    const [major = "", minor = ""] = doc.mediaType.split("/");
    const ed = comp(
      "",
      esc(DATA_TYPES[major] ?? major),
      esc(minor),
      bytes === undefined ? "" : "Base64",
      bytes === undefined ? "" : Buffer.from(bytes).toString("base64"),
    );
    out.push(new Fields().set(1, "1").set(2, "ED").set(5, ed).set(11, "F").toSegment("OBX"));
  }
  return out;
}
