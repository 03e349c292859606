import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DATA_ROOT } from "./corpus.test-util.js";
import { Hl7ParseError, Hl7PathError } from "./errors.js";
import { parse } from "./parse.js";
import { serialize } from "./serialize.js";

const read = (name: string): string => readFileSync(DATA_ROOT + name, "utf8");
const rep = read("hl7v2-python-hl7/rep_sample_hl7.hl7");
const mshSample = read("hl7v2-python-hl7/sample_msh.hl7");

describe("typed path access", () => {
  it("numbers MSH fields per spec: MSH-1 is the field separator, MSH-2 the encoding characters", () => {
    const msg = parse(rep);
    expect(msg.get("MSH-1")).toBe("|");
    expect(msg.get("MSH-2")).toBe("^~\\&");
    expect(msg.get("MSH-3")).toBe("GHH LAB");
    expect(msg.getRaw("MSH-9")).toBe("ORU^R01");
    expect(msg.get("MSH-9.2")).toBe("R01");
    expect(msg.controlId).toBe("CNTRL-3456");
    expect(msg.version).toBe("2.4");
  });

  it("reads fields, components, subcomponents and repetitions (medical-objects reference message)", () => {
    const msg = parse(rep);
    expect(msg.get("PID-1")).toBe("Field1");
    expect(msg.get("PID-2.2")).toBe("Component2");
    expect(msg.get("PID-3.2")).toBe("Sub-Component1"); // Terser default: subcomponent 1
    expect(msg.get("PID-3.2.2")).toBe("Sub-Component2");
    expect(msg.getRaw("PID-3.2")).toBe("Sub-Component1&Sub-Component2");
    expect(msg.get("PID-4")).toBe("Repeat1");
    expect(msg.get("PID-4[2]")).toBe("Repeat2");
    expect(msg.getAll("PID-4")).toEqual(["Repeat1", "Repeat2"]);
    expect(msg.get("PID-4[3]")).toBeUndefined();
    expect(msg.get("PID-99")).toBeUndefined();
    expect(msg.get("ZZZ-1")).toBeUndefined();
  });

  it('distinguishes the HL7 null "" from an empty field', () => {
    const msg = parse(mshSample);
    expect(msg.get("PV1-9")).toBeNull(); // `""`
    expect(msg.get("PV1-6")).toBeUndefined(); // empty
    expect(msg.get("PV1-5")).toBe(" 863968"); // leading space kept
  });

  it("addresses repetitions and segment occurrences", () => {
    const msg = parse(mshSample);
    expect(msg.get("PID-3[2].1")).toBe("162840");
    expect(msg.get("PID-3[2].4")).toBe("MSH_EMPI");
    expect(msg.getAll("PID-4.5")).toEqual(["REFE", "DONOR ", undefined]);
    const text = read("hl7v2-ms-fhir-converter/ORU-R01-01.hl7");
    const obxLines = text.split("\n").filter((l) => l.startsWith("OBX|"));
    const oru = parse(text);
    expect(oru.segmentsById("OBX").length).toBe(obxLines.length);
    expect(oru.get("OBX[3]-3")).toBe(obxLines[2]!.split("|")[3]!.split("^")[0]);
    expect(oru.get("OBX[3]-3.2")).toBe(obxLines[2]!.split("|")[3]!.split("^")[1]);
    expect(oru.getAll("OBX-2")).toEqual(obxLines.map((l) => l.split("|")[2] || undefined));
  });

  it("rejects malformed paths with Hl7PathError", () => {
    const msg = parse(rep);
    for (const bad of ["PID", "pid-5", "PID-0", "PID-5[0]", "PID-5..1", "PID-5.1.2.3", "PIDX-1"]) {
      expect(() => msg.get(bad)).toThrow(Hl7PathError);
    }
  });
});

describe("writing by path", () => {
  it("escapes on write and unescapes on read", () => {
    const msg = parse(rep);
    msg.set("PID-5.1", "O'Brien & Sons | ^~\\");
    expect(msg.getRaw("PID-5")).toBe("O'Brien \\T\\ Sons \\F\\ \\S\\\\R\\\\E\\");
    expect(msg.get("PID-5.1")).toBe("O'Brien & Sons | ^~\\");
  });

  it("pads missing repetitions, components and subcomponents", () => {
    const msg = parse(rep);
    msg.set("PID-7[2].3.2", "x");
    expect(msg.getRaw("PID-7")).toBe("~^^&x");
    msg.set("PID-4[2]", "Second");
    expect(msg.getRaw("PID-4")).toBe("Repeat1~Second");
    msg.set("PID-2.2", null);
    expect(msg.getRaw("PID-2")).toBe('Component1^""');
    expect(msg.get("PID-2.2")).toBeNull();
  });

  it("setRaw writes encoded text at exactly the level named", () => {
    const msg = parse(rep);
    msg.setRaw("PID-3", "A^B&C");
    expect(msg.get("PID-3.2.2")).toBe("C");
    msg.setRaw("PID-4[2]", "X^Y");
    expect(msg.getRaw("PID-4")).toBe("Repeat1~X^Y");
  });

  it("changes only the segments written; the others keep their bytes", () => {
    const text = read("hl7v2-ms-fhir-converter/ADT-A01-01.hl7");
    const msg = parse(text);
    msg.set("PID-8", "F");
    const before = text.split("\n");
    const after = serialize(msg, { terminators: "preserve" }).split("\n");
    const changed = before.filter((l, i) => l !== after[i]);
    expect(changed.length).toBe(1);
    expect(changed[0]!.startsWith("PID|")).toBe(true);
    expect(parse(serialize(msg)).get("PID-8")).toBe("F");
  });

  it("refuses to write the delimiters or a missing segment", () => {
    const msg = parse(rep);
    expect(() => msg.set("MSH-2", "x")).toThrow(expect.objectContaining({ code: "hl7.read_only" }));
    expect(() => msg.set("MSH-1", "x")).toThrow(expect.objectContaining({ code: "hl7.read_only" }));
    expect(() => msg.set("PV1-2", "I")).toThrow(expect.objectContaining({ code: "hl7.no_segment" }));
  });

  it("adds segments with the message's terminator style", () => {
    const msg = parse("MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P|2.5\nPID|1\n");
    msg.addSegment("ZXY").toString();
    msg.set("ZXY-2", "v");
    expect(serialize(msg, { terminators: "preserve" })).toBe(
      "MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P|2.5\nPID|1\nZXY||v\n",
    );
    expect(msg.get("ZXY-2")).toBe("v");
  });
});

describe("parse", () => {
  it("accepts CR, LF, CRLF and mixed terminators, a BOM and trailing blank lines", () => {
    const body = ["MSH|^~\\&|A||||||ADT^A01|1|P|2.5", "PID|1||42", "PV1|1|I"];
    for (const t of ["\r", "\n", "\r\n"]) {
      const text = "\uFEFF" + body.join(t) + t + t + "  " + t;
      const msg = parse(text);
      expect(msg.segments.map((s) => s.id)).toEqual(["MSH", "PID", "PV1"]);
      expect(serialize(msg, { terminators: "preserve" })).toBe(text);
      expect(serialize(msg)).toBe(body.join("\r") + "\r");
    }
    const mixed = parse("MSH|^~\\&|A||||||ADT^A01|1|P|2.5\r\nPID|1||42\rPV1|1|I\n");
    expect(mixed.get("PV1-2")).toBe("I");
  });

  it.each([
    ["", "hl7.empty"],
    ["\n\r\n", "hl7.empty"],
    ["PID|1", "hl7.no_msh"],
    ["MSH", "hl7.bad_delimiters"],
    ["MSH|^~|", "hl7.bad_delimiters"],
    ["MSH|^^\\&|", "hl7.bad_delimiters"],
    ["MSHA^~\\&|", "hl7.bad_delimiters"],
    ["MSH|^~\\&|\rpid|1", "hl7.bad_segment_id"],
    ["MSH|^~\\&|\rPI|1", "hl7.bad_segment_id"],
    ["MSH|^~\\&|\rPID^1", "hl7.bad_segment_id"],
    ["MSH|^~\\&|\rMSH|^~\\&|", "hl7.multiple_messages"],
    ["FHS|^~\\&|\rMSH|^~\\&|", "hl7.no_msh"],
  ])("rejects %j with %s", (text, code) => {
    expect(() => parse(text)).toThrow(Hl7ParseError);
    expect(() => parse(text)).toThrow(expect.objectContaining({ code }));
  });
});
