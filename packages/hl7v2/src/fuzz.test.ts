import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildAck } from "./ack.js";
import { parseBatch } from "./batch.js";
import { corpusFiles, stripComments } from "./corpus.test-util.js";
import { Hl7ParseError } from "./errors.js";
import type { Hl7Message } from "./message.js";
import { parse } from "./parse.js";
import { serialize } from "./serialize.js";

// Property: on ANY input the codec returns or throws Hl7ParseError — never another error, never
// hangs (every run is bounded by the test timeout and an explicit per-input time budget) — and
// whatever parses round-trips exactly and can be read everywhere and acknowledged.

const PATHS = ["MSH-9", "MSH-9.2", "MSH-10", "PID-3[2].4.1", "PID-5", "OBX[3]-5", "PV1-3.1.2", "ZZZ-1"];
const files = corpusFiles();
const seeds = files.map((f) => (f.file === "messages.txt" ? stripComments(f.text) : f.text));
const adt = files.find((f) => f.file === "ADT-A01-01.hl7")!.text;

function exercise(text: string): void {
  const started = performance.now();
  for (const attempt of [() => [parse(text)], () => parseBatch(text).messages]) {
    let messages: Hl7Message[];
    try {
      messages = attempt();
    } catch (e) {
      if (!(e instanceof Hl7ParseError)) throw e;
      expect(e.code).toMatch(/^hl7\./);
      continue;
    }
    for (const m of messages) {
      for (const p of PATHS) {
        m.get(p);
        m.getAll(p);
        m.getRaw(p);
      }
      for (const s of m.segments) for (let f = 1; f <= s.fieldCount; f++) s.field(f);
      const ack = serialize(buildAck(m, { code: "AE", controlId: "1" }));
      expect(parse(ack).get("MSA-1")).toBe("AE");
    }
  }
  try {
    expect(serialize(parse(text), { terminators: "preserve" })).toBe(text);
  } catch (e) {
    if (!(e instanceof Hl7ParseError)) throw e;
  }
  expect(performance.now() - started).toBeLessThan(1000);
}

const hl7Chars = fc.constantFrom(...'MSHPIDOBX|^~\\&#!@%*\r\n" \uFEFFAZ09.-'.split(""));

describe("robustness (fast-check)", () => {
  it("survives random strings", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => exercise(s)),
      { numRuns: 300 },
    );
  });

  it("survives random strings over the HL7 alphabet, with and without an MSH prefix", () => {
    fc.assert(
      fc.property(fc.boolean(), fc.string({ unit: hl7Chars, maxLength: 300 }), (prefix, s) =>
        exercise((prefix ? "MSH|^~\\&|" : "") + s),
      ),
      { numRuns: 400 },
    );
  });

  it("survives mutated real messages: byte flips, truncation, inserted delimiters", () => {
    const mutation = fc.oneof(
      fc.record({
        kind: fc.constant("flip" as const),
        at: fc.nat(),
        ch: fc.integer({ min: 0, max: 0xffff }),
      }),
      fc.record({ kind: fc.constant("cut" as const), at: fc.nat(), ch: fc.constant(0) }),
      fc.record({
        kind: fc.constant("insert" as const),
        at: fc.nat(),
        ch: fc.constantFrom(...'|^~\\&\r\n"'.split("").map((c) => c.charCodeAt(0))),
      }),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(mutation, { minLength: 1, maxLength: 6 }),
        (seed, muts) => {
          let t = seed;
          for (const m of muts) {
            const at = m.at % (t.length + 1);
            if (m.kind === "flip") t = t.slice(0, at) + String.fromCharCode(m.ch) + t.slice(at + 1);
            else if (m.kind === "cut") t = t.slice(0, at);
            else t = t.slice(0, at) + String.fromCharCode(m.ch) + t.slice(at);
          }
          exercise(t);
        },
      ),
      { numRuns: 400 },
    );
  });

  it("set/get round-trips any value at any level", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 40 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 3 }),
        (value, rep, comp, sub) => {
          const msg = parse(adt);
          const path = `PID-5[${rep}].${comp}.${sub}`;
          msg.set(path, value);
          const back = parse(serialize(msg));
          expect(back.get(path)).toBe(value === "" ? undefined : value === '""' ? null : value);
          expect(back.get("PID-7")).toBe(msg.get("PID-7"));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("stays linear on large pathological inputs", () => {
    const big = [
      "MSH|^~\\&|" + "\\".repeat(500_000),
      "MSH|^~\\&|\r" + "PID|".repeat(200_000),
      "\r".repeat(1_000_000),
      "MSH|^~\\&|" + "\\X".repeat(300_000),
      adt.replace(/\n/g, "\r").repeat(200),
    ];
    for (const t of big) {
      const started = performance.now();
      try {
        const b = parseBatch(t);
        for (const m of b.messages.slice(0, 5)) m.getAll("MSH-3");
      } catch (e) {
        if (!(e instanceof Hl7ParseError)) throw e;
      }
      expect(performance.now() - started).toBeLessThan(1500);
    }
  });
});
