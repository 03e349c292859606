import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { normalizeRecord, type LinkageRecord, type NormalizedRecord } from "@hix/linkage";
import { explain, quickScore, ruleFor } from "./rules.js";

// FEBRL dataset 1 (/work/shared/data/febrl, SOURCE.md there): 1 000 records, 500 originals each
// with corrupted duplicates — typos, swapped names, missing fields — next to unrelated people.
const FEBRL = new URL("../../../../shared/data/febrl/dataset1.csv", import.meta.url);

function febrl(): NormalizedRecord[] {
  const [header, ...lines] = fs.readFileSync(FEBRL, "utf8").trim().split("\n");
  const names = header!.split(",").map((h) => h.trim());
  return lines.map((line) => {
    const cells = line.split(",").map((c) => c.trim());
    const v = (name: string): string | undefined => {
      const x = cells[names.indexOf(name)];
      return x === undefined || x === "" ? undefined : x;
    };
    const record: LinkageRecord = {
      id: v("rec_id")!,
      given: v("given_name"),
      family: v("surname"),
      addressLine: [v("street_number"), v("address_1")].filter((x) => x !== undefined).join(" "),
      city: v("suburb"),
      postalCode: v("postcode"),
      state: v("state"),
      birthDate: v("date_of_birth"),
      ssn: v("soc_sec_id"),
    };
    return normalizeRecord(record);
  });
}

describe("quickScore", () => {
  const records = febrl().sort((a, b) => (a.id < b.id ? -1 : 1)); // duplicates next to their original
  for (const version of ["fs-1", "fs-1-strict"]) {
    it(`is the score explain gives, and below review exactly when explain says no-link (${version})`, () => {
      const rule = ruleFor(version);
      let compared = 0;
      let above = 0;
      for (let i = 0; i < records.length; i++)
        for (let j = i + 1; j < Math.min(records.length, i + 8); j++) {
          const [a, b] = [records[i]!, records[j]!];
          const e = explain(a, b, rule);
          const quick = quickScore(a, b, rule);
          expect(quick).toBeCloseTo(e.score, 9);
          expect(e.decision === "no-link").toBe(quick < rule.thresholds.review - 1e-9);
          compared++;
          if (e.decision !== "no-link") above++;
        }
      // The window holds both sides: true duplicates (review/match) and unrelated neighbours.
      expect(above).toBeGreaterThan(300);
      expect(compared - above).toBeGreaterThan(3000);
    });
  }
});
