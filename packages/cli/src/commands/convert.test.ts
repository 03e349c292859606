// `hix convert` run as a child process, the way people use it: output on stdout, exit codes,
// and ONE line on stderr for refused input.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { fixturePath } from "@hix/testkit";

const HIX = fileURLToPath(new URL("../../bin/hix.js", import.meta.url));

function hix(args: string[], input?: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [HIX, ...args], { input, encoding: "utf8", timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("hix convert", { timeout: 30_000 }, () => {
  it.each([
    ["hl7v2", "fhir", fixturePath("hl7v2-ms-fhir-converter", "ADT-A04-01.hl7")],
    ["hl7v2", "canonical", fixturePath("hl7v2-rethinkhealth-qa", "oru-r01-lab.hl7")],
    ["fhir", "hl7v2", fixturePath("fhir-r4-us-core", "patient-example.json")],
    ["ccda", "fhir", fixturePath("ccda-hl7-examples", "CCD-1.xml")],
  ])("converts %s to %s and prints it on stdout", (from, to, file) => {
    const r = hix(["convert", "--from", from, "--to", to, file]);
    expect(r.stderr.split("\n").filter((l) => l !== "" && !l.startsWith("warning:"))).toEqual([]);
    expect(r.code).toBe(0);
    if (to === "fhir")
      expect(JSON.parse(r.stdout)).toMatchObject({ resourceType: "Bundle", type: "collection" });
    if (to === "canonical") expect(Array.isArray(JSON.parse(r.stdout))).toBe(true);
    if (to === "hl7v2") expect(r.stdout.startsWith("MSH|")).toBe(true);
  });

  it("reads stdin for - and converts CSV with the canonical layout when no profile is given", () => {
    const csv =
      "record_id,facility_id,mrn,given_name,middle_name,family_name,birth_date,sex,address_line,city,state,postal_code,phone,ssn\n" +
      "r1,practice,M1,Ann,,Lee,1980-02-29,F,,,,,,\n";
    const r = hix(["convert", "--from", "csv", "--to", "canonical", "-"], csv);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toHaveLength(1);
  });

  it.each([
    ["hl7v2", "MSH|^~\\&|A|B|C|D|2024||ADT^A04|1|P|2.5\rPID|1||123^^^H^MR||Doe^J||20230231\r", /PID-7/],
    ["fhir", '{"resourceType":"Patient","birthDate":"2020-13-01"}', /birthDate/],
    ["fhir", '{"resourceType": "Patient",', /line 1/],
    ["ccda", "not xml at all", /line 1/],
  ])("refuses bad %s input with exit 2 and one line naming where", (from, input, where) => {
    const r = hix(["convert", "--from", from, "--to", "canonical", "-"], input);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(where);
    expect(lines[0]).not.toMatch(/Doe|\n\s+at /);
  });

  it("refuses bad usage with exit 2", () => {
    expect(hix(["convert", "--from", "xml", "--to", "fhir", "x"]).code).toBe(2);
    expect(hix(["convert", "--from", "fhir", "--to", "fhir", "/no/such/file"]).stderr).toMatch(/cannot read/);
  });
});
