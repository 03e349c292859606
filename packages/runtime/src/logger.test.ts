import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "./logger.js";
import { HixError } from "./errors.js";

// A patient shaped as the canonical model (and as FHIR) would hand it to a log call.
const patient = {
  identifiers: [{ value: "MRN-4471-2209", system: "urn:oid:2.16.840.1.113883.19.5", type: "MR" }],
  names: [{ use: "official", given: ["Adam", "Quincy"], family: "Everyman" }],
  birthDate: { year: 1954, month: 11, day: 25 },
  addresses: [{ lines: ["1357 Amber Drive"], city: "Beaverton", postalCode: "97006" }],
  telecom: [{ system: "phone", value: "(816)276-6909" }],
  ssn: "123-45-6789",
};
const PHI_STRINGS = [
  "Adam",
  "Everyman",
  "1954",
  "MRN-4471-2209",
  "Amber Drive",
  "Beaverton",
  "276-6909",
  "123-45-6789",
];

function capture(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString("utf8"));
      done();
    },
  });
  return { lines, stream };
}

describe("createLogger", () => {
  it("prints no name, birth date, identifier, address or phone of a patient handed to a log call", () => {
    const { lines, stream } = capture();
    const log = createLogger({ service: "test", destination: stream });
    log.info({ patient }, "patient seen");
    log.info({ envelope: { id: "01J", recordRequest: { criteria: patient } } }, "request");
    log.child({ component: "x" }).warn({ ...patient, envelopeId: "01J" }, "flattened patient fields");
    log.info({ batch: [{ patient }, { patient }] }, "array of patients");
    expect(lines).toHaveLength(4);
    for (const line of lines) {
      for (const phi of PHI_STRINGS) expect(line).not.toContain(phi);
    }
    // ids and sizes survive redaction
    expect(lines[1]).toContain('"id":"01J"');
    expect(lines[2]).toContain('"envelopeId":"01J"');
    expect(lines[2]).toContain('"component":"x"');
  });

  it("logs byte payloads as their size only", () => {
    const { lines, stream } = capture();
    const log = createLogger({ service: "test", destination: stream });
    log.info({ bytes: new TextEncoder().encode("PID|||MRN-4471-2209||Everyman^Adam") }, "raw message");
    expect(lines[0]).toContain('"bytes":"[34 bytes]"');
    expect(lines[0]).not.toContain("Everyman");
  });

  it("logs errors under err with their code and retryable flag", () => {
    const { lines, stream } = capture();
    const log = createLogger({ service: "test", destination: stream });
    log.error(
      { err: new HixError("bus.publish_timeout", "publish timed out", { retryable: true }) },
      "failed",
    );
    const line = JSON.parse(lines[0]!) as { err: { code: string; retryable: boolean; type: string } };
    expect(line.err).toMatchObject({ code: "bus.publish_timeout", retryable: true, type: "HixError" });
  });
});
