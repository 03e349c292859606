import { describe, expect, it } from "vitest";
import { clusterMatches } from "./cluster.js";
import { compareRecords, DISAGREE, EXACT, FIELDS, MISSING } from "./compare.js";
import { estimateParameters } from "./fellegiSunter.js";
import { explainPair, linkRecords } from "./link.js";
import { normalizeRecord } from "./normalize.js";
import type { LinkageRecord } from "./types.js";

const base: LinkageRecord = {
  id: "a",
  given: "Robert",
  middle: "James",
  family: "Okafor",
  birthDate: "1961-04-12",
  sex: "M",
  addressLine: "12 Elm Street",
  city: "Salem",
  state: "MA",
  postalCode: "01970",
  phone: "978-555-0134",
};

const explain = (a: LinkageRecord, b: LinkageRecord) => explainPair(normalizeRecord(a), normalizeRecord(b));

describe("compareRecords", () => {
  it.each([
    ["nickname", { given: "Bob" }, "given", "close"],
    ["married name sharing a part", { family: "Okafor-Smith" }, "family", "close"],
    ["typo in family name", { family: "Okafro" }, "family", "close"],
    ["day and month transposed", { birthDate: "1961-12-04" }, "birthDate", "close"],
    ["partial date agreeing to the month", { birthDate: "1961-04" }, "birthDate", "close"],
    ["placeholder birth date", { birthDate: "1900-01-01" }, "birthDate", "missing"],
    ["phone with country code", { phone: "+1 978 555 0134" }, "phone", "exact"],
    ["different given name", { given: "Samuel" }, "given", "disagree"],
  ])("%s", (_name, change, field, level) => {
    const e = explain(base, { ...base, id: "b", ...change });
    expect(e.fields.find((f) => f.field === field)?.level).toBe(level);
  });

  it("detects given and family names entered in each other's fields", () => {
    const e = explain(base, { ...base, id: "b", given: "Okafor", family: "Robert" });
    expect(e.swappedNames).toBe(true);
    expect(e.fields.find((f) => f.field === "given")?.level).toBe("exact");
    expect(e.fields.find((f) => f.field === "family")?.level).toBe("exact");
  });
});

describe("explanations", () => {
  it("field weights and adjustments sum to the score, and agreement outweighs disagreement", () => {
    const same = explain(base, { ...base, id: "b", given: "Bob", phone: undefined });
    const other = explain(base, {
      ...base,
      id: "c",
      given: "Samuel",
      birthDate: "1990-01-30",
      addressLine: "4 Oak Road",
    });
    for (const e of [same, other]) {
      const sum =
        e.fields.reduce((s, f) => s + f.weight, 0) + e.adjustments.reduce((s, x) => s + x.weight, 0);
      expect(sum).toBeCloseTo(e.score, 9);
      expect(e.fields.filter((f) => f.level === "missing").every((f) => f.weight === 0)).toBe(true);
    }
    expect(same.score).toBeGreaterThan(other.score);
    expect(same.decision).toBe("match");
  });
});

describe("guards", () => {
  const twinA: LinkageRecord = { ...base, id: "t1", given: "Michael", multipleBirthOrder: 1 };
  it("never auto-links twins: same birth date and household, different given names", () => {
    const e = explain(twinA, { ...twinA, id: "t2", given: "Michelle", sex: "F", multipleBirthOrder: 2 });
    expect(e.decision).not.toBe("match");
    expect(e.guards.map((g) => g.code)).toContain("possible-twins");
  });
  it("never auto-links twins whose only difference is the birth order", () => {
    const e = explain(twinA, { ...twinA, id: "t2", multipleBirthOrder: 2 });
    expect(e.scoreDecision).toBe("match");
    expect(e.decision).toBe("review");
    expect(e.guards[0]?.reason).toMatch(/multiple-birth order/);
  });
  it("never auto-links Jr and Sr: same name and address, a generation apart", () => {
    const e = explain(
      { ...base, suffix: "Jr", birthDate: "1988-04-12" },
      { ...base, id: "sr", birthDate: "1961-04-12" },
    );
    expect(e.decision).not.toBe("match");
    expect(e.guards.map((g) => g.code)).toContain("possible-jr-sr");
  });
  it("caps a pair whose SSNs differ clearly", () => {
    const e = explain({ ...base, ssn: "219-09-9999" }, { ...base, id: "b", ssn: "078-44-1234" });
    expect(e.scoreDecision).toBe("match");
    expect(e.decision).toBe("review");
    expect(e.guards.map((g) => g.code)).toContain("identifier-conflict");
  });
});

describe("estimateParameters", () => {
  it("converges on a toy set and separates matches from non-matches", () => {
    const F = FIELDS.length;
    const rows: number[][] = [];
    const pattern = (agree: boolean, noise: number): number[] =>
      FIELDS.map((_, f) =>
        f > 4 ? MISSING : (agree ? (f + noise) % 10 !== 0 : (f + noise) % 17 === 0) ? EXACT : DISAGREE,
      );
    for (let i = 0; i < 100; i++) rows.push(pattern(true, i));
    for (let i = 0; i < 900; i++) rows.push(pattern(false, i));
    const levels = new Uint8Array(rows.length * F);
    rows.forEach((r, i) => levels.set(r, i * F));
    const result = estimateParameters(levels, undefined, { priorStrength: 1 });
    expect(result.converged).toBe(true);
    expect(result.lambda).toBeGreaterThan(0.05);
    expect(result.lambda).toBeLessThan(0.15);
    expect(result.parameters.given.m[0]).toBeGreaterThan(0.8);
    expect(result.parameters.given.u[0]).toBeLessThan(0.15);
  });
});

describe("clusterMatches", () => {
  it("does not chain two records that are a strong non-match through a third", () => {
    // 0–1 and 1–2 match, but 0 and 2 contradict each other.
    const conflict = (i: number, j: number) =>
      Math.min(i, j) === 0 && Math.max(i, j) === 2 ? "strong non-match" : undefined;
    const result = clusterMatches(
      3,
      [
        { i: 0, j: 1, score: 30 },
        { i: 1, j: 2, score: 25 },
      ],
      conflict,
    );
    expect(result.clusters).toEqual([[0, 1]]);
    expect(result.refused).toHaveLength(1);
    expect(result.refused[0]).toMatchObject({ i: 1, j: 2, conflictI: 0, conflictJ: 2 });
  });
});

describe("linkRecords", () => {
  it("links duplicates, keeps twins apart and explains every pair", () => {
    const records: LinkageRecord[] = [
      { ...base, id: "r1" },
      { ...base, id: "r2", given: "Bob", phone: "(978) 555-0134" },
      { ...base, id: "r3", given: "Okafor", family: "Robert", birthDate: "1961-12-04" },
      { ...base, id: "twin", given: "Richard", multipleBirthOrder: 2 },
      {
        ...base,
        id: "other",
        given: "Ada",
        family: "Lovelace",
        birthDate: "1915-12-10",
        addressLine: "1 Main Street",
        phone: undefined,
      },
    ];
    const result = linkRecords(records, { estimate: false });
    const cluster = result.clusters.find((c) => c.ids.includes("r1"));
    expect(cluster?.ids).toEqual(expect.arrayContaining(["r1", "r2"]));
    expect(cluster?.ids).not.toContain("twin");
    expect(result.pairs.filter((p) => p.decision === "match" && (p.a === "twin" || p.b === "twin"))).toEqual(
      [],
    );
    for (const p of result.pairs) expect(result.explain(p).score).toBeCloseTo(p.score, 9);
    expect(result.stats.passes.length).toBeGreaterThan(3);
  });
  it("rejects a batch with a repeated id, naming the position only", () => {
    expect(() => linkRecords([{ id: "x" }, { id: "x" }])).toThrow(/position 1/);
  });
});

it("compareRecords agrees with explainPair", () => {
  const a = normalizeRecord(base);
  const b = normalizeRecord({ ...base, id: "b", given: "Bob" });
  const levels = Array.from(compareRecords(a, b).levels);
  expect(explainPair(a, b).fields.map((f) => f.level)).toEqual(
    levels.map((l) => (l === MISSING ? "missing" : ["exact", "close", "phonetic", "disagree"][l])),
  );
});
