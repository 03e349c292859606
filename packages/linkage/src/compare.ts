// Per-field agreement levels for a pair of normalized records. Levels are ordered from the
// strongest agreement to disagreement; what "close" and "phonetic" mean differs per field and
// is written next to each comparator (and returned as a note in explanations).
import { damerauLevenshtein, jaroWinkler } from "./comparators.js";
import { nicknameRoots } from "./nicknames.js";
import type { NormalizedRecord, PartialDate } from "./types.js";

export const FIELDS = [
  "given",
  "family",
  "middle",
  "birthDate",
  "sex",
  "address",
  "city",
  "postalCode",
  "state",
  "phone",
  "ssn",
  "email",
  "mrn",
] as const;
export type FieldName = (typeof FIELDS)[number];

/** Agreement levels, strongest first. `missing` (either side empty) carries no weight. */
export const LEVELS = ["exact", "close", "phonetic", "disagree"] as const;
export type AgreementLevel = (typeof LEVELS)[number] | "missing";

export const EXACT = 0;
export const CLOSE = 1;
export const PHONETIC = 2;
export const DISAGREE = 3;
export const MISSING = 4;

/** Levels of one pair, one code (EXACT … MISSING) per entry of FIELDS. */
export interface Comparison {
  readonly levels: Uint8Array;
  /** True when given and family names were compared crosswise (a.given ↔ b.family). */
  readonly swappedNames: boolean;
}

/** Why a level was chosen, for explanations; only filled when asked for. */
export type Notes = Partial<Record<FieldName, string>>;

// Similarity at or above which two names are "close" (Winkler's own cut-offs are 0.88–0.94;
// 0.92 keeps SMITH/SMYTH and drops SMITH/SMALL).
const NAME_CLOSE = 0.92;

interface NameSide {
  readonly name: string | undefined;
  readonly roots: readonly string[];
  readonly code: string | undefined;
  readonly parts: readonly string[];
}

const givenSide = (r: NormalizedRecord): NameSide => ({
  name: r.given,
  roots: r.givenRoots,
  code: r.givenCode,
  parts: [],
});
const familySide = (r: NormalizedRecord): NameSide => ({
  name: r.family,
  roots: [],
  code: r.familyCode,
  parts: r.familyParts,
});

/**
 * Names: exact; close = same nickname root, shared part of a hyphenated/changed family name,
 * or Jaro-Winkler ≥ 0.92; phonetic = same NYSIIS code, or an initial that agrees; else disagree.
 */
function compareName(a: NameSide, b: NameSide, notes: Notes | undefined, field: FieldName): number {
  const x = a.name;
  const y = b.name;
  if (x === undefined || y === undefined) return MISSING;
  if (x === y) return EXACT;
  if (a.roots.length > 0 && b.roots.length > 0 && a.roots.some((r) => b.roots.includes(r))) {
    if (notes) notes[field] = "nickname";
    return CLOSE;
  }
  if (a.parts.includes(y) || b.parts.includes(x) || a.parts.some((p) => b.parts.includes(p))) {
    if (notes) notes[field] = "shares a name part";
    return CLOSE;
  }
  if (x.length > 1 && y.length > 1 && jaroWinkler(x, y) >= NAME_CLOSE) {
    if (notes) notes[field] = "similar spelling";
    return CLOSE;
  }
  if (a.code === b.code && a.code !== undefined && a.code.length > 0) {
    if (notes) notes[field] = "same NYSIIS code";
    return PHONETIC;
  }
  if ((x.length === 1 || y.length === 1) && x[0] === y[0]) {
    if (notes) notes[field] = "initial agrees";
    return PHONETIC;
  }
  return DISAGREE;
}

const dateKey = (d: PartialDate): string =>
  `${String(d.year).padStart(4, "0")}${String(d.month ?? 0).padStart(2, "0")}${String(d.day ?? 0).padStart(2, "0")}`;

/**
 * Birth dates: exact = same full date; close = day/month transposed, a one-character typo in
 * YYYYMMDD, or agreement down to the month when one side is less precise; phonetic (weakest
 * agreement) = same year and month with different days, or only the year known and agreeing.
 */
function compareBirthDate(
  a: PartialDate | undefined,
  b: PartialDate | undefined,
  notes: Notes | undefined,
): number {
  if (a === undefined || b === undefined) return MISSING;
  const full = a.day !== undefined && b.day !== undefined;
  if (full) {
    if (a.year === b.year && a.month === b.month && a.day === b.day) return EXACT;
    if (a.year === b.year && a.month === b.day && a.day === b.month) {
      if (notes) notes.birthDate = "day and month transposed";
      return CLOSE;
    }
    if (damerauLevenshtein(dateKey(a), dateKey(b)) === 1) {
      if (notes) notes.birthDate = "one digit differs";
      return CLOSE;
    }
    if (a.year === b.year && a.month === b.month) {
      if (notes) notes.birthDate = "year and month agree";
      return PHONETIC;
    }
    return DISAGREE;
  }
  if (a.year !== b.year) return DISAGREE;
  if (a.month !== undefined && b.month !== undefined) {
    if (a.month !== b.month) return DISAGREE;
    if (notes) notes.birthDate = "agrees to the month (one date partial)";
    return CLOSE;
  }
  if (notes) notes.birthDate = "agrees to the year (one date partial)";
  return PHONETIC;
}

function compareExactOrTypo(
  x: string | undefined,
  y: string | undefined,
  field: FieldName,
  notes: Notes | undefined,
): number {
  if (x === undefined || y === undefined) return MISSING;
  if (x === y) return EXACT;
  if (damerauLevenshtein(x, y) === 1) {
    if (notes) notes[field] = "one character differs";
    return CLOSE;
  }
  return DISAGREE;
}

function compareSimilar(
  x: string | undefined,
  y: string | undefined,
  field: FieldName,
  notes: Notes | undefined,
  cut: number,
): number {
  if (x === undefined || y === undefined) return MISSING;
  if (x === y) return EXACT;
  const xs = x.replace(/ /g, "");
  const ys = y.replace(/ /g, "");
  if (xs === ys || jaroWinkler(xs, ys) >= cut) {
    if (notes) notes[field] = "similar spelling";
    return CLOSE;
  }
  return DISAGREE;
}

function compareAddress(a: NormalizedRecord, b: NormalizedRecord, notes: Notes | undefined): number {
  const x = a.address;
  const y = b.address;
  if (x === undefined || y === undefined) return MISSING;
  if (x === y) return EXACT;
  const xs = x.replace(/ /g, "");
  const ys = y.replace(/ /g, "");
  if (xs === ys) return EXACT;
  // A different house number on the same street is a different address (neighbours).
  if (a.houseNumber !== undefined && b.houseNumber !== undefined && a.houseNumber !== b.houseNumber) {
    if (damerauLevenshtein(a.houseNumber, b.houseNumber) > 1) return DISAGREE;
  }
  if (jaroWinkler(xs, ys) >= 0.9) {
    if (notes) notes.address = "similar spelling";
    return CLOSE;
  }
  return DISAGREE;
}

function comparePhone(x: string | undefined, y: string | undefined, notes: Notes | undefined): number {
  if (x === undefined || y === undefined) return MISSING;
  if (x === y) return EXACT;
  if (damerauLevenshtein(x, y) === 1) {
    if (notes) notes.phone = "one digit differs";
    return CLOSE;
  }
  if (x.length >= 10 && y.length >= 10 && x.slice(-7) === y.slice(-7)) {
    if (notes) notes.phone = "same local number, different area code";
    return CLOSE;
  }
  return DISAGREE;
}

function compareEmail(x: string | undefined, y: string | undefined, notes: Notes | undefined): number {
  if (x === undefined || y === undefined) return MISSING;
  if (x === y) return EXACT;
  const xl = x.slice(0, x.lastIndexOf("@"));
  const yl = y.slice(0, y.lastIndexOf("@"));
  if (xl === yl || damerauLevenshtein(x, y) === 1) {
    if (notes) notes.email = xl === yl ? "same local part" : "one character differs";
    return CLOSE;
  }
  return DISAGREE;
}

function compareMiddle(x: string | undefined, y: string | undefined, notes: Notes | undefined): number {
  if (x === undefined || y === undefined) return MISSING;
  if (x === y) return EXACT;
  if ((x.length === 1 || y.length === 1) && x[0] === y[0]) {
    if (notes) notes.middle = "initial agrees";
    return CLOSE;
  }
  return DISAGREE;
}

const I_GIVEN = FIELDS.indexOf("given");
const I_FAMILY = FIELDS.indexOf("family");

const agrees = (level: number): boolean => level === EXACT || level === CLOSE;

/** Compare two normalized records field by field. Pass `notes` to learn why each level was chosen. */
export function compareRecords(a: NormalizedRecord, b: NormalizedRecord, notes?: Notes): Comparison {
  const levels = new Uint8Array(FIELDS.length);
  const swappedNames = compareInto(a, b, levels, 0, notes);
  return { levels, swappedNames };
}

/**
 * Write the levels of (a, b) into `out` at `offset` (FIELDS.length entries) and return whether
 * names were compared crosswise. The batch path uses this to avoid one allocation per pair.
 */
export function compareInto(
  a: NormalizedRecord,
  b: NormalizedRecord,
  out: Uint8Array,
  offset: number,
  notes?: Notes,
): boolean {
  const levels = out;
  const o = offset;
  let given = compareName(givenSide(a), givenSide(b), notes, "given");
  let family = compareName(familySide(a), familySide(b), notes, "family");
  let swappedNames = false;
  // Given and family entered in each other's fields: use the crosswise comparison only when
  // both crosswise names agree and the straight comparison does not.
  if (!(agrees(given) && agrees(family)) && a.given !== undefined && a.family !== undefined) {
    const crossGiven = compareName(
      givenSide(a),
      { ...familySide(b), roots: b.family === undefined ? [] : nicknameRoots(b.family) },
      undefined,
      "given",
    );
    const crossFamily = compareName(familySide(a), { ...givenSide(b), roots: [] }, undefined, "family");
    if (agrees(crossGiven) && agrees(crossFamily)) {
      given = crossGiven;
      family = crossFamily;
      swappedNames = true;
      if (notes) {
        notes.given = "given and family names swapped";
        notes.family = "given and family names swapped";
      }
    }
  }
  levels[o + I_GIVEN] = given;
  levels[o + I_FAMILY] = family;
  levels[o + 2] = compareMiddle(a.middle, b.middle, notes);
  levels[o + 3] = compareBirthDate(a.birth, b.birth, notes);
  levels[o + 4] = a.sex === undefined || b.sex === undefined ? MISSING : a.sex === b.sex ? EXACT : DISAGREE;
  levels[o + 5] = compareAddress(a, b, notes);
  levels[o + 6] = compareSimilar(a.city, b.city, "city", notes, NAME_CLOSE);
  levels[o + 7] = compareExactOrTypo(a.postalCode, b.postalCode, "postalCode", notes);
  levels[o + 8] =
    a.state === undefined || b.state === undefined ? MISSING : a.state === b.state ? EXACT : DISAGREE;
  levels[o + 9] = comparePhone(a.phone, b.phone, notes);
  levels[o + 10] = compareExactOrTypo(a.ssn, b.ssn, "ssn", notes);
  levels[o + 11] = compareEmail(a.email, b.email, notes);
  // MRNs only mean something inside the facility that assigned them.
  levels[o + 12] =
    a.mrn === undefined || b.mrn === undefined || a.facilityId === undefined || a.facilityId !== b.facilityId
      ? MISSING
      : a.mrn === b.mrn
        ? EXACT
        : DISAGREE;
  return swappedNames;
}

/** The normalized value of `field` on one side, as compared (for explanations). */
export function comparedValue(r: NormalizedRecord, field: FieldName): string | undefined {
  switch (field) {
    case "birthDate": {
      const d = r.birth;
      if (d === undefined) return undefined;
      const y = String(d.year).padStart(4, "0");
      if (d.month === undefined) return y;
      const m = String(d.month).padStart(2, "0");
      return d.day === undefined ? `${y}-${m}` : `${y}-${m}-${String(d.day).padStart(2, "0")}`;
    }
    default: {
      const v = r[field as keyof NormalizedRecord];
      return typeof v === "string" ? v : undefined;
    }
  }
}
