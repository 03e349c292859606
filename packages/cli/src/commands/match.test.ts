// `hix match` as an operator runs it: a child process over a real FEBRL file, then over a file
// with bad rows. Truth for FEBRL is in rec_id (rec-N-org / rec-N-dup-k are one person).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { fixturePath } from "@hix/testkit";

const repo = resolve(fileURLToPath(new URL("../../../..", import.meta.url)));
const dir = mkdtempSync(join(tmpdir(), "hix-match-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function hix(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(repo, "packages/cli/bin/hix.js"), ...args], {
    cwd: repo,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const entity = (id: string): string => /^rec-(\d+)-/.exec(id)?.[1] ?? id;

describe("hix match", () => {
  it("finds FEBRL dataset1's duplicates: every match pair is one person, pairs and clusters written", () => {
    const out = join(dir, "pairs.csv");
    const clusters = join(dir, "clusters.csv");
    const r = hix(
      "match",
      "--input",
      fixturePath("febrl", "dataset1.csv"),
      "--format",
      "febrl",
      "--out",
      out,
      "--clusters",
      clusters,
    );
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/read 1000 records \(0 skipped\)/);
    const lines = readFileSync(out, "utf8").trim().split("\n");
    expect(lines[0]).toBe("record_id_a,record_id_b,score,decision");
    const pairs = lines.slice(1).map((l) => l.split(","));
    const matches = pairs.filter((p) => p[3] === "match");
    expect(matches.length).toBeGreaterThan(200);
    for (const p of pairs) expect(["match", "review"]).toContain(p[3]);
    for (const [a, b] of matches) expect(entity(a!)).toBe(entity(b!));
    // dataset1 has 500 originals with one duplicate each: match+review finds nearly all.
    const found = new Set(pairs.filter(([a, b]) => entity(a!) === entity(b!)).map(([a]) => entity(a!)));
    expect(found.size).toBeGreaterThanOrEqual(490);
    const clusterLines = readFileSync(clusters, "utf8").trim().split("\n");
    expect(clusterLines[0]).toBe("cluster_id,record_id,review");
    const clusterOf = new Map(clusterLines.slice(1).map((l) => [l.split(",")[1]!, l.split(",")[0]!]));
    for (const [a, b] of matches) expect(clusterOf.get(a!)).toBe(clusterOf.get(b!));
  }, 60_000);

  it("reports bad rows with their line numbers, skips them and links the rest", () => {
    const input = join(dir, "bad.csv");
    writeFileSync(
      input,
      [
        "record_id,facility_id,mrn,given_name,middle_name,family_name,birth_date,sex,address_line,city,state,postal_code,phone,ssn",
        "r1,clinic,M1,Jane,,Doe,1980-01-02,F,1 Main St,Springfield,IL,62701,217-555-0100,123-45-6789",
        "r2,clinic,M2,Jane,,Doe,1980-01-02,F,1 Main Street,Springfield,IL,62701,(217) 555 0100,123456789",
        "r3,clinic,M3,only,four,fields",
        "r1,clinic,M4,Repeat,,Id,1970-01-01,M,,,,,,",
        ",clinic,M5,No,,Id,1970-01-01,M,,,,,,",
        '"r6",clinic,M6,"Smith, Jr",,"O""Brien",1999-09-09,M,,,,,,',
      ].join("\n"),
    );
    const out = join(dir, "bad-pairs.csv");
    const r = hix("match", "--input", input, "--out", out);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("bad.csv:4: skipped: row has 6 fields, expected 14");
    expect(r.stderr).toContain("bad.csv:5: skipped: row repeats a record id");
    expect(r.stderr).toContain("bad.csv:6: skipped: row has an empty record id");
    expect(r.stderr).toMatch(/read 3 records \(3 skipped\)/);
    // No patient value in what is printed.
    expect(r.stderr).not.toMatch(/Jane|Doe|Repeat/);
    expect(readFileSync(out, "utf8").trim().split("\n")).toEqual([
      "record_id_a,record_id_b,score,decision",
      expect.stringMatching(/^r[12],r[12],\d+\.\d\d,(match|review)$/),
    ]);
  }, 60_000);

  it("refuses a file whose header is not the chosen format, and a missing --out", () => {
    expect(
      hix("match", "--input", fixturePath("febrl", "dataset1.csv"), "--out", join(dir, "x.csv")).status,
    ).toBe(2);
    expect(hix("match", "--input", fixturePath("febrl", "dataset1.csv")).status).toBe(2);
  }, 60_000);
});
