import { describe, expect, it } from "vitest";
import { damerauLevenshtein, jaro, jaroWinkler, levenshtein, nysiis } from "./comparators.js";

describe("jaroWinkler", () => {
  // Reference values from Winkler (1990) and the usual textbook examples.
  it.each([
    ["MARTHA", "MARHTA", 0.9444, 0.9611],
    ["DWAYNE", "DUANE", 0.8222, 0.84],
    ["DIXON", "DICKSONX", 0.7667, 0.8133],
    ["SMITH", "SMITH", 1, 1],
    ["ABC", "XYZ", 0, 0],
    ["", "ABC", 0, 0],
  ])("%s / %s → jaro %f, jaro-winkler %f", (a, b, j, jw) => {
    expect(jaro(a, b)).toBeCloseTo(j, 4);
    expect(jaroWinkler(a, b)).toBeCloseTo(jw, 4);
    expect(jaroWinkler(b, a)).toBeCloseTo(jw, 4);
  });
});

describe("edit distances", () => {
  it.each([
    ["KITTEN", "SITTING", 3, 3],
    ["FLAW", "LAWN", 2, 2],
    ["SMITH", "SMIHT", 2, 1],
    ["CA", "ABC", 3, 3],
    ["", "ABC", 3, 3],
    ["SAME", "SAME", 0, 0],
  ])("%s / %s → levenshtein %i, damerau (OSA) %i", (a, b, lev, dl) => {
    expect(levenshtein(a, b)).toBe(lev);
    expect(damerauLevenshtein(a, b)).toBe(dl);
    expect(damerauLevenshtein(b, a)).toBe(dl);
  });
});

describe("nysiis", () => {
  it.each([
    ["KATHERINE", "CATARAN"],
    ["CATHERINE", "CATARAN"],
    ["JOHN", "JAN"],
    ["JOSHUA", "JAS"],
    ["WORTHY", "WARTY"],
    ["KNIGHT", "NAGT"],
    ["MACDONALD", "MCDANALD"],
    ["PHILLIPS", "FALAP"],
  ])("%s → %s", (name, code) => {
    expect(nysiis(name)).toBe(code);
  });
  it("gives same-sounding spellings one code", () => {
    expect(nysiis("BROWN")).toBe("BRAN");
    expect(nysiis("BRAUN")).toBe("BRAN");
    expect(nysiis("")).toBe("");
  });
});
