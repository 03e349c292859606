import { describe, expect, it } from "vitest";
import { nicknameRoots, NICKNAME_PAIR_COUNT } from "./nicknames.js";
import {
  normalizePhone,
  normalizePostalCode,
  normalizeRecord,
  normalizeSsn,
  normalizeText,
  parseBirthDate,
} from "./normalize.js";

describe("normalizeText", () => {
  it.each([
    ["  José  García-Núñez ", "JOSE GARCIA NUNEZ"],
    ["O'Brien", "OBRIEN"],
    ["Müller,  Ståle", "MULLER STALE"],
    ["Søren Łukasz", "SOREN LUKASZ"],
    ["  ", undefined],
  ])("%s → %s", (input, expected) => {
    expect(normalizeText(input)).toBe(expected);
  });
});

describe("parseBirthDate", () => {
  it.each([
    ["1970-03-04", { year: 1970, month: 3, day: 4 }],
    ["19700304", { year: 1970, month: 3, day: 4 }],
    ["1970-03", { year: 1970, month: 3 }],
    ["1970", { year: 1970 }],
    ["1970-25-04", { year: 1970, month: 4, day: 25 }],
    ["1970-13-45", { year: 1970 }],
    ["1900-01-01", undefined],
    ["0000-00-00", undefined],
    ["not a date", undefined],
  ])("%s", (input, expected) => {
    expect(parseBirthDate(input)).toEqual(expected);
  });
  it("accepts an already parsed partial date", () => {
    expect(parseBirthDate({ year: 1980, month: 2 })).toEqual({ year: 1980, month: 2 });
  });
});

describe("identifiers and contact values", () => {
  it.each([
    ["+1 (555) 123-4567", "5551234567"],
    ["555.123.4567", "5551234567"],
    ["0000000000", undefined],
    ["9999999999", undefined],
    ["12", undefined],
  ])("phone %s → %s", (input, expected) => expect(normalizePhone(input)).toBe(expected));
  it.each([
    ["02139-4307", "02139"],
    ["02139", "02139"],
    ["SW1A 1AA", "SW1A1AA"],
    ["4011", "4011"],
  ])("postal code %s → %s", (input, expected) => expect(normalizePostalCode(input)).toBe(expected));
  it.each([
    ["123-45-6789", undefined],
    ["000-00-0000", undefined],
    ["999-99-9999", undefined],
    ["666-12-3456", undefined],
    ["219-09-9999", "219099999"],
    ["6988048", "6988048"],
  ])("ssn %s → %s", (input, expected) => expect(normalizeSsn(input)).toBe(expected));
});

describe("normalizeRecord", () => {
  it("treats placeholder names as missing", () => {
    const r = normalizeRecord({ id: "1", given: "BABY BOY", family: "Unknown" });
    expect(r.given).toBeUndefined();
    expect(r.family).toBeUndefined();
  });
  it("splits hyphenated family names into parts and finds suffixes", () => {
    const r = normalizeRecord({ id: "1", given: "Mr John", family: "Smith-Jones Jr." });
    expect(r.given).toBe("JOHN");
    expect(r.family).toBe("SMITHJONES");
    expect(r.familyParts).toEqual(["SMITH", "JONES"]);
    expect(r.suffix).toBe("JR");
  });
  it("keeps particles out of family-name parts", () => {
    expect(normalizeRecord({ id: "1", family: "van der Berg" }).familyParts).toEqual([]);
  });
  it("maps nicknames to their formal names", () => {
    expect(nicknameRoots("BOB")).toContain("ROBERT");
    expect(nicknameRoots("PEGGY")).toContain("MARGARET");
    expect(nicknameRoots("LIZ")).toContain("ELIZABETH");
    expect(nicknameRoots("BILL")).toContain("WILLIAM");
    expect(nicknameRoots("ZEBEDEE")).toEqual(["ZEBEDEE"]);
    expect(NICKNAME_PAIR_COUNT).toBeGreaterThan(300);
  });
});
