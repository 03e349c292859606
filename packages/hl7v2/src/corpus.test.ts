import { describe, expect, it } from "vitest";
import { corpusFiles, sourceTable, stripComments } from "./corpus.test-util.js";
import { Hl7ParseError } from "./errors.js";
import { parse } from "./parse.js";
import { parseBatch } from "./batch.js";
import { serialize } from "./serialize.js";

// Files the SOURCE.md notes describe as broken, with the error the codec must give.
const INVALID: Record<string, { code: string; segmentIndex: number; field?: number }> = {
  "hl7v2-rethinkhealth-qa/invalid-missing-msh.hl7": { code: "hl7.no_msh", segmentIndex: 1 },
  // PIDX (4 letters) is segment 2; PV (2 letters) would be next.
  "hl7v2-rethinkhealth-qa/invalid-segment-header-length.hl7": { code: "hl7.bad_segment_id", segmentIndex: 2 },
  // A second BHS (segment 4) before the first batch's BTS.
  "hl7v2-python-hl7/sample_bad_batch1.hl7": { code: "hl7.bad_batch", segmentIndex: 4 },
  // FHS followed by EVN: a batch whose first message has no MSH.
  "hl7v2-python-hl7/sample_bad_file3.hl7": { code: "hl7.no_msh", segmentIndex: 2 },
  // MSH-2 is `^~\\&`: the escape character declared twice (a Java-string copy/paste artefact).
  "hl7v2-linuxforhealth/sample_unix.hl7": { code: "hl7.bad_delimiters", segmentIndex: 1, field: 2 },
  "hl7v2-linuxforhealth/sample_win.hl7": { code: "hl7.bad_delimiters", segmentIndex: 1, field: 2 },
};
// Named "invalid-" upstream but legal ER7 that real systems send, so accepted on purpose:
// trailing empty fields (`EVN|A01|...|||`) and MSH-12 `1.0` (version policy belongs to the
// receiving application, which answers with an ACK carrying table-0357 code 203).
const ACCEPTED_ON_PURPOSE = [
  "hl7v2-rethinkhealth-qa/invalid-trailing-empty-fields.hl7",
  "hl7v2-rethinkhealth-qa/invalid-wrong-version.hl7",
];

const NHAPI: Record<string, Record<string, string>> = {
  "hl7v2-nhapi/oru-r01-ft-linebreak-escapes.hl7": {
    "#MSH": "1",
    "MSH-9 type": "ORU^R01",
    "MSH-12 ver": "2.5.1",
    "batch hdr": "",
  },
};

const files = corpusFiles();

/** What `serialize(…, { terminators: "cr" })` must produce: no BOM/leading blanks, each line-break run → one CR. */
function normalized(text: string): string {
  return text.replace(/^\uFEFF?(?:[ \t]*[\r\n]+)*/, "").replace(/[\r\n]+(?:[ \t]*(?:[\r\n]+|$))*/g, "\r");
}

describe("HL7 v2 sample corpus", () => {
  it("covers every folder and all 68 files", () => {
    expect(new Set(files.map((f) => f.dir)).size).toBe(6);
    expect(files.length).toBe(68);
    for (const name of [...Object.keys(INVALID), ...ACCEPTED_ON_PURPOSE]) {
      expect(files.map((f) => f.name)).toContain(name);
    }
  });

  for (const f of files) {
    const expected = INVALID[f.name];
    const text = f.file === "messages.txt" ? stripComments(f.text) : f.text;
    if (expected !== undefined) {
      it(`${f.name} is rejected with ${expected.code}`, () => {
        let err: unknown;
        try {
          parseBatch(text);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(Hl7ParseError);
        const pe = err as Hl7ParseError;
        expect(pe.code).toBe(expected.code);
        expect(pe.location?.segmentIndex).toBe(expected.segmentIndex);
        if (expected.field !== undefined) expect(pe.location?.field).toBe(expected.field);
        // The message says where, never what: no value from the file appears in it.
        for (const token of text.split(/[|^~\\&\r\n ]+/).filter((t) => t.length >= 5)) {
          expect(pe.message).not.toContain(token);
        }
      });
      continue;
    }
    it(`${f.name} parses as SOURCE.md describes and round-trips`, () => {
      const batch = parseBatch(text);
      // nhapi's SOURCE.md has no table; its prose says: one ORU^R01 v2.5.1, CR-separated.
      const row = sourceTable(f.dir).get(f.file) ?? NHAPI[f.name];
      expect(row, "file listed in SOURCE.md").toBeDefined();
      expect(batch.messages.length).toBe(Number(row!["#MSH"]));
      const types = row!["MSH-9 type"]!.split(", ");
      const versions = row!["MSH-12 ver"]!.split(", ");
      for (const m of batch.messages) {
        expect(types).toContain(m.getRaw("MSH-9") ?? "");
        expect(versions).toContain(m.version);
      }
      expect(serialize(batch, { terminators: "preserve" })).toBe(text);
      expect(serialize(batch)).toBe(normalized(text));
      if (batch.messages.length === 1 && row!["batch hdr"] === "") {
        const msg = parse(text);
        expect(serialize(msg, { terminators: "preserve" })).toBe(text);
        expect(serialize(msg)).toBe(normalized(text));
        // A normalized message parses to the same thing again.
        expect(serialize(parse(serialize(msg)))).toBe(serialize(msg));
      }
    });
  }

  it("reads Z-segments verbatim", () => {
    const msg = parse(files.find((f) => f.file === "edge-z-segments.hl7")!.text);
    const z = msg.segmentsById("ZPD");
    expect(z.length).toBe(1);
    const line = files
      .find((f) => f.file === "edge-z-segments.hl7")!
      .text.split("\n")
      .find((l) => l.startsWith("ZPD"));
    expect(z[0]!.toString()).toBe(line);
  });

  it("reads custom delimiters from MSH-1/MSH-2 (rethinkhealth MSH#!@%* and hapi MSH^~|\\&)", () => {
    const custom = parse(files.find((f) => f.file === "edge-custom-delimiters.hl7")!.text);
    expect(custom.delimiters).toMatchObject({
      field: "#",
      component: "!",
      repetition: "@",
      escape: "%",
      subcomponent: "*",
    });
    expect(custom.get("MSH-1")).toBe("#");
    expect(custom.get("MSH-2")).toBe("!@%*");
    expect(custom.getRaw("MSH-9")).toBe("ADT!A01");
    expect(custom.get("MSH-9.2")).toBe("A01");
    expect(custom.get("PID-3.4")).toBe("MRN");
    expect(custom.get("PID-5.2")).toBe("JOHN");

    const hapi = parse(files.find((f) => f.file === "segmentfinder_a24.hl7")!.text);
    expect(hapi.getRaw("MSH-9")).toBe("ADT~A24");
    expect(hapi.get("PID[2]-1")).toBe("2");
    expect(hapi.getAll("PID-3.1")).toEqual(["11111", "22222"]);
    expect(hapi.get("PID-3.4.3")).toBe("0363");
    expect(hapi.get("PID-3.5")).toBe("NI");
  });

  it("tolerates the legacy 3-character encoding characters of hapi messages.txt", () => {
    const batch = parseBatch(stripComments(files.find((f) => f.file === "messages.txt")!.text));
    const legacy = batch.messages.find((m) => m.get("MSH-2") === "^~}");
    expect(legacy?.delimiters.subcomponent).toBe("");
    expect(legacy?.delimiters.escape).toBe("}");
  });
});
