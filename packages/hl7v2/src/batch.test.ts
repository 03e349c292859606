import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseBatch } from "./batch.js";
import { DATA_ROOT } from "./corpus.test-util.js";
import { serialize } from "./serialize.js";

const read = (name: string): string => readFileSync(DATA_ROOT + name, "utf8");

describe("parseBatch", () => {
  it("splits a file with two batches (python-hl7 sample_file1) and exposes the envelope", () => {
    const file = parseBatch(read("hl7v2-python-hl7/sample_file1.hl7"));
    expect(file.fileHeader?.id).toBe("FHS");
    expect(file.get("FHS-10")).toBe("abchs20070101123401.hl7");
    expect(file.get("FTS-1")).toBe("2");
    expect(file.batches.length).toBe(2);
    expect(file.batches.map((b) => b.messages.length)).toEqual([2, 1]);
    // BTS-1 (batch message count) agrees with what was found.
    expect(file.batches.map((b) => Number(b.trailer?.get({ ...P, segment: "BTS", field: 1 })))).toEqual([
      2, 1,
    ]);
    expect(file.get("BHS[2]-11")).toBe("abchs20070101123401-2");
    expect(file.messages.map((m) => m.controlId)).toEqual([
      "12334456778890",
      "12334456778891",
      "12334456778890",
    ]);
    expect(file.messages[0]!.get("PID-3.1")).toBe("0000112234");
  });

  it("splits an unenveloped stream into messages (python-hl7 sample_batch2, hapi example_oml_o21)", () => {
    const stream = parseBatch(read("hl7v2-python-hl7/sample_batch2.hl7"));
    expect(stream.fileHeader).toBeUndefined();
    expect(stream.batches.length).toBe(1);
    expect(stream.batches[0]!.header).toBeUndefined();
    expect(stream.messages.length).toBe(2);
    const oml = parseBatch(read("hl7v2-hapi/example_oml_o21.hl7"));
    expect(oml.messages.length).toBe(13);
    expect(oml.messages.every((m) => m.segments[0]!.id === "MSH")).toBe(true);
  });

  it("keeps each message's own delimiters in a mixed stream", () => {
    const text = "MSH|^~\\&|A|||||ADT^A01|1|P|2.5\rPID|1||a^b\rMSH#!@%*#A#####ADT!A01#2#P#2.5\rPID#1##c!d\r";
    const b = parseBatch(text);
    expect(b.messages.map((m) => m.get("PID-3.2"))).toEqual(["b", "d"]);
    expect(serialize(b, { terminators: "preserve" })).toBe(text);
  });

  it.each([
    ["BTS|0", "hl7.bad_batch"],
    ["FTS|0", "hl7.bad_batch"],
    ["MSH|^~\\&|\rFHS|^~\\&|", "hl7.bad_batch"],
    ["FHS|^~\\&|\rFTS|0\rMSH|^~\\&|", "hl7.bad_batch"],
    ["BHS|^~\\&|\rMSH|^~\\&|\rFTS|1", "hl7.bad_batch"],
    ["BHS|^~\\&|\rEVN|A01", "hl7.no_msh"],
    ["BHS|^~|", "hl7.bad_delimiters"],
  ])("rejects %j with %s", (text, code) => {
    expect(() => parseBatch(text)).toThrow(expect.objectContaining({ name: "Hl7ParseError", code }));
  });

  it("accepts an empty batch and a batch missing its trailer", () => {
    expect(parseBatch("BHS|^~\\&|\rBTS|0").messages).toEqual([]);
    expect(parseBatch("BHS|^~\\&|\rMSH|^~\\&|A|||||ACK|1|P|2.5").messages.length).toBe(1);
  });
});

const P = {
  segment: "",
  occurrence: undefined,
  repetition: undefined,
  component: undefined,
  subcomponent: undefined,
};
