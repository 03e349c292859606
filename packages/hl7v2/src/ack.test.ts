import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { buildAck } from "./ack.js";
import { DATA_ROOT } from "./corpus.test-util.js";
import { parse } from "./parse.js";
import { serialize } from "./serialize.js";

const read = (name: string): string => readFileSync(DATA_ROOT + name, "utf8");
const at = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));

describe("buildAck", () => {
  it("swaps sender and receiver and echoes the control id (v2.5.1 ADT^A01)", () => {
    const orig = parse(read("hl7v2-rethinkhealth-qa/adt-a01-basic.hl7"));
    const ack = buildAck(orig, { code: "AA", controlId: "ACK0001", timestamp: at });
    expect(ack.get("MSH-3")).toBe(orig.get("MSH-5"));
    expect(ack.get("MSH-4")).toBe(orig.get("MSH-6"));
    expect(ack.get("MSH-5")).toBe(orig.get("MSH-3"));
    expect(ack.get("MSH-6")).toBe(orig.get("MSH-4"));
    expect(ack.get("MSH-7")).toBe("20260102030405+0000");
    expect(ack.getRaw("MSH-9")).toBe("ACK^A01^ACK");
    expect(ack.controlId).toBe("ACK0001");
    expect(ack.get("MSH-11")).toBe(orig.get("MSH-11"));
    expect(ack.version).toBe("2.5.1");
    expect(ack.get("MSA-1")).toBe("AA");
    expect(ack.get("MSA-2")).toBe(orig.controlId);
    expect(ack.segmentsById("ERR").length).toBe(0);
    // What goes on the wire parses back to the same thing.
    expect(serialize(parse(serialize(ack)))).toBe(serialize(ack));
  });

  it("writes ERR-2/3/4/8 for v2.5+", () => {
    const orig = parse(read("hl7v2-rethinkhealth-qa/adt-a01-basic.hl7"));
    const ack = buildAck(orig, {
      code: "AE",
      text: "rejected: see ERR",
      errors: [
        {
          segment: "PID",
          field: 3,
          repetition: 1,
          component: 1,
          code: 101,
          severity: "E",
          message: "Patient id | missing",
        },
        { segment: "PV1", sequence: 1, field: 2, code: 103, severity: "W", message: "class unknown" },
      ],
    });
    expect(ack.get("MSA-3")).toBe("rejected: see ERR");
    expect(ack.getRaw("ERR[1]-2")).toBe("PID^1^3^1^1");
    expect(ack.getRaw("ERR[1]-3")).toBe("101^Required field missing^HL70357");
    expect(ack.get("ERR[1]-4")).toBe("E");
    expect(ack.get("ERR[1]-8")).toBe("Patient id | missing");
    expect(ack.getRaw("ERR[2]-2")).toBe("PV1^1^2");
    expect(ack.get("ERR[2]-4")).toBe("W");
    expect(ack.controlId).toMatch(/^[0-9a-f]{20}$/);
  });

  it("writes ERR-1 for versions before 2.5", () => {
    const orig = parse(read("hl7v2-python-hl7/sample_hl7.hl7")); // v2.4
    const ack = buildAck(orig, {
      code: "AR",
      errors: [{ segment: "PID", field: 7, code: 102, severity: "E", message: "bad date" }],
    });
    expect(ack.getRaw("MSH-9")).toBe("ACK^R01^ACK");
    expect(ack.getRaw("ERR-1")).toBe("PID^1^7^102&bad date&HL70357");
    expect(ack.get("ERR-2")).toBeUndefined();
    const v22 = buildAck(parse("MSH|^~\\&|S|SF|R|RF|199401010000||ORU^R01|X1|P|2.2"), { code: "AA" });
    expect(v22.getRaw("MSH-9")).toBe("ACK^R01");
  });

  it("answers with the original's own delimiters", () => {
    const orig = parse(read("hl7v2-rethinkhealth-qa/edge-custom-delimiters.hl7"));
    const text = serialize(buildAck(orig, { code: "AA", controlId: "1", timestamp: at }));
    expect(text.startsWith("MSH#!@%*#RECV#FAC#SENDER#FAC#")).toBe(true);
    expect(parse(text).get("MSA-2")).toBe("MSG007");
  });

  it("acknowledges a message too broken to parse", () => {
    const broken = read("hl7v2-rethinkhealth-qa/invalid-missing-msh.hl7");
    const ack = buildAck(broken, {
      code: "AR",
      sendingApplication: "HIX",
      sendingFacility: "HUB",
      errors: [{ segment: "MSH", field: 1, code: 100, severity: "E", message: "no MSH segment" }],
      timestamp: at,
    });
    const back = parse(serialize(ack));
    expect(back.get("MSH-3")).toBe("HIX");
    expect(back.get("MSH-4")).toBe("HUB");
    expect(back.version).toBe("2.5");
    expect(back.get("MSA-1")).toBe("AR");
    expect(back.get("MSA-2")).toBeUndefined();
    expect(back.getRaw("ERR-3")).toBe("100^Segment sequence error^HL70357");
    expect(buildAck(null, { code: "AR" }).get("MSA-1")).toBe("AR");
  });
});
