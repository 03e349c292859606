import { ConversionError, type EnvelopeBody, type EnvelopeKind } from "@hix/proto";
import { describe, expect, it } from "vitest";
import { parseBatch } from "../batch.js";
import { corpusFiles, stripComments } from "../corpus.test-util.js";
import { Hl7ParseError } from "../errors.js";
import type { Hl7Message } from "../message.js";
import { canonicalToHl7v2 } from "./to-hl7v2.js";
import { hl7v2ToCanonical } from "./to-canonical.js";

// Every message of every file in ../shared/data/hl7v2-* either converts to the body kind its
// type maps to, and round-trips (HL7 → canonical → HL7 → canonical gives the same canonical),
// or is refused with the documented code (docs/mappings/hl7v2.md "Refused").

const KIND_OF_TYPE: Record<string, EnvelopeKind> = {
  ADT: "patientAnnouncement",
  ORU: "recordTransfer",
  MDM: "recordTransfer",
  REF: "referralPacket",
};
/** Message types that are in the corpus but deliberately not mapped. */
const UNSUPPORTED = new Set([
  "ACK",
  "BAR^P01",
  "ORM^O01",
  "QRY^Q01",
  "OML^O21",
  "OUL^R22",
  "ORL^O34",
  "OMD^O03",
  "ERP^Z99",
  "ADT^A24",
  "ADT^A41",
  "ADT^A47",
  "REF^I14",
  "DFT^P03",
  "SIU^S12",
]);
/** Messages of a mapped type refused for their content: file → [code, location]. */
const REFUSED: Record<string, [string, string]> = {
  // PID-7 `196203520`: nine digits, not a DTM (and day 52 were it read as YYYYMMDD).
  "hl7v2-python-hl7/sample_hl7.hl7": ["hl7.bad_timestamp", "PID-7"],
};

const OPTIONS = { facilityId: "fac-a" };
const RENDER = { sendingFacility: "fac-a", receivingFacility: "fac-b", controlId: "T1", now: new Date(0) };

function eventOf(type: string): string {
  const [code = "", trigger = ""] = type.split(/[\^~!]/);
  return trigger === "" ? code : `${code}^${trigger}`;
}

/** The PID values (names, ids, dates) long enough to be identifying: none may appear in an error message. */
function phiTokens(m: Hl7Message): string[] {
  const pid = m.segment("PID")?.toString().slice(4) ?? "";
  return pid.split(/[|^~\\&]+/).filter((t) => t.length >= 4);
}

function roundTrip(bodies: EnvelopeBody[]): EnvelopeBody[] {
  return bodies.flatMap((b) =>
    parseBatch(canonicalToHl7v2(b, RENDER)).messages.flatMap((m) => hl7v2ToCanonical(m, OPTIONS).bodies),
  );
}

describe("HL7 v2 corpus → canonical", () => {
  let converted = 0;
  for (const f of corpusFiles()) {
    const text = f.file === "messages.txt" ? stripComments(f.text) : f.text;
    let messages;
    try {
      messages = parseBatch(text).messages;
    } catch (err) {
      if (!(err instanceof Hl7ParseError)) throw err;
      it(`${f.name} is refused as unreadable with the parser's code`, () => {
        let refused: unknown;
        try {
          hl7v2ToCanonical(text, OPTIONS);
        } catch (e) {
          refused = e;
        }
        expect(refused).toBeInstanceOf(ConversionError);
        expect((refused as ConversionError).code).toMatch(
          /^hl7\.(no_msh|bad_segment_id|bad_delimiters|bad_batch|multiple_messages)$/,
        );
      });
      continue;
    }
    messages.forEach((m, i) => {
      const type = eventOf(m.getRaw("MSH-9") ?? "");
      const refusal = UNSUPPORTED.has(type) ? ["hl7.unsupported_message", "MSH-9"] : REFUSED[f.name];
      if (refusal !== undefined) {
        it(`${f.name} #${i + 1} (${type}) is refused with ${refusal[0]} at ${refusal[1]}`, () => {
          let refused: unknown;
          try {
            hl7v2ToCanonical(m, OPTIONS);
          } catch (e) {
            refused = e;
          }
          expect(refused).toBeInstanceOf(ConversionError);
          const e = refused as ConversionError;
          expect([e.code, e.location]).toEqual(refusal);
          for (const t of phiTokens(m)) expect(e.message).not.toContain(t);
        });
        return;
      }
      it(`${f.name} #${i + 1} (${type}) converts and round-trips`, () => {
        const { bodies } = hl7v2ToCanonical(m, OPTIONS);
        expect(bodies.length).toBeGreaterThan(0);
        for (const b of bodies) expect(b.$case).toBe(KIND_OF_TYPE[type.slice(0, 3)]);
        expect(roundTrip(bodies)).toEqual(bodies);
        converted++;
      });
    });
  }
  it("converted the mapped messages of the corpus", () => {
    // Runs last (vitest keeps declaration order): 55 messages of mapped types convert.
    expect(converted).toBe(55);
  });
});
