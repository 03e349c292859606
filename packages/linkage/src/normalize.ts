// Normalization: turn a caller's record into comparable values once, so that comparing a pair
// never re-parses text. Placeholder values that registration systems use for "unknown" become
// missing, because two "UNKNOWN"s or two 1900-01-01s are no evidence of anything.
import { nysiis } from "./comparators.js";
import { nicknameRoots } from "./nicknames.js";
import type { LinkageRecord, NormalizedRecord, PartialDate } from "./types.js";

// Letters that NFKD does not decompose into ASCII + combining marks.
const SPECIAL_LETTERS: Readonly<Record<string, string>> = {
  Ø: "O",
  Æ: "AE",
  Œ: "OE",
  Ł: "L",
  Đ: "D",
  Ð: "D",
  Þ: "TH",
  ı: "I",
};

/**
 * Upper-case ASCII letters, digits and single spaces: NFKD with combining marks removed,
 * apostrophes dropped (O'Brien → OBRIEN), every other punctuation a space.
 */
export function normalizeText(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const text = value
    .toUpperCase()
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[ØÆŒŁĐÐÞı]/g, (c) => SPECIAL_LETTERS[c] ?? c)
    .replace(/['’`´]/g, "")
    .replace(/[^A-Z0-9]+/g, " ")
    .trim();
  return text.length === 0 ? undefined : text;
}

// Values registration systems put in name fields when the name is not known.
const PLACEHOLDER_NAMES = new Set([
  "UNKNOWN",
  "UNK",
  "UNKN",
  "UNKNOWN UNKNOWN",
  "NONE",
  "NULL",
  "NA",
  "N A",
  "NOT KNOWN",
  "NOT GIVEN",
  "NO NAME",
  "NONAME",
  "TEST",
  "TEST PATIENT",
  "PATIENT",
  "BABY",
  "BABY BOY",
  "BABY GIRL",
  "BABYBOY",
  "BABYGIRL",
  "BB",
  "BG",
  "BOY",
  "GIRL",
  "INFANT",
  "NEWBORN",
  "MALE",
  "FEMALE",
  "TWIN A",
  "TWIN B",
  "TRAUMA",
  "JOHN DOE",
  "JANE DOE",
  "XXX",
]);

const SUFFIXES: Readonly<Record<string, string>> = {
  JR: "JR",
  JNR: "JR",
  JUNIOR: "JR",
  SR: "SR",
  SNR: "SR",
  SENIOR: "SR",
  II: "II",
  "2ND": "II",
  III: "III",
  "3RD": "III",
  IV: "IV",
  "4TH": "IV",
};
const TITLES = new Set(["MR", "MRS", "MS", "MISS", "DR", "PROF", "REV", "SIR"]);
// Particles are kept in the whole family name but are not "parts" on their own: VAN DER BERG
// must not match VAN DYKE through VAN.
const FAMILY_PARTICLES = new Set([
  "VAN",
  "DER",
  "DEN",
  "DE",
  "LA",
  "LE",
  "DEL",
  "DELLA",
  "VON",
  "DA",
  "DI",
  "DOS",
  "DAS",
  "DU",
  "ST",
  "Y",
]);

/** Normalize a name field: text normalization, placeholders → undefined. */
export function normalizeName(value: string | undefined): string | undefined {
  const text = normalizeText(value);
  if (text === undefined || PLACEHOLDER_NAMES.has(text)) return undefined;
  return text;
}

interface NameParts {
  tokens: string[];
  suffix: string | undefined;
}

function nameTokens(value: string | undefined): NameParts {
  const text = normalizeName(value);
  if (text === undefined) return { tokens: [], suffix: undefined };
  const tokens = text.split(" ").filter((t) => !/^\d+$/.test(t) || SUFFIXES[t] !== undefined);
  let suffix: string | undefined;
  while (tokens.length > 1 && SUFFIXES[tokens[tokens.length - 1]!] !== undefined) {
    suffix ??= SUFFIXES[tokens.pop()!];
  }
  while (tokens.length > 1 && TITLES.has(tokens[0]!)) tokens.shift();
  return { tokens, suffix };
}

/** Parse `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, `YYYYMMDD` (also with `/`), or accept a parsed date. */
export function parseBirthDate(value: string | PartialDate | undefined): PartialDate | undefined {
  if (value === undefined) return undefined;
  let year: number;
  let month: number | undefined;
  let day: number | undefined;
  if (typeof value === "string") {
    const m = /^\s*(\d{4})(?:[-/]?(\d{2})(?:[-/]?(\d{2}))?)?\s*$/.exec(value);
    if (m === null) return undefined;
    year = Number(m[1]);
    month = m[2] === undefined ? undefined : Number(m[2]);
    day = m[3] === undefined ? undefined : Number(m[3]);
  } else {
    ({ year, month, day } = value);
  }
  // Placeholders: 0000-00-00, 1900-01-01, 1800-01-01, 9999-…
  if (year === 0 || year >= 9000) return undefined;
  if ((year === 1900 || year === 1800) && (month ?? 1) <= 1 && (day ?? 1) <= 1) return undefined;
  if (year < 1850 || year > 2200) return undefined;
  // A month above 12 with a day of at most 12 is a day-first date: swap (the comparison also
  // grades day/month transposition as "close", so this only rescues otherwise-invalid dates).
  if (month !== undefined && day !== undefined && month > 12 && month <= 31 && day >= 1 && day <= 12) {
    [month, day] = [day, month];
  }
  if (month === undefined || month < 1 || month > 12) return { year };
  if (day === undefined || day < 1 || day > 31) return { year, month };
  return { year, month, day };
}

function normalizeSex(value: string | undefined): "M" | "F" | undefined {
  const text = normalizeText(value);
  if (text === "M" || text === "MALE") return "M";
  if (text === "F" || text === "FEMALE" || text === "W") return "F";
  return undefined;
}

const STREET_WORDS: Readonly<Record<string, string>> = {
  STREET: "ST",
  ROAD: "RD",
  AVENUE: "AVE",
  AV: "AVE",
  DRIVE: "DR",
  COURT: "CT",
  PLACE: "PL",
  CRESCENT: "CRES",
  CIRCUIT: "CCT",
  BOULEVARD: "BLVD",
  LANE: "LN",
  TERRACE: "TCE",
  HIGHWAY: "HWY",
  PARKWAY: "PKWY",
  CLOSE: "CL",
  SQUARE: "SQ",
  APARTMENT: "APT",
  SUITE: "STE",
  UNIT: "UNIT",
  NORTH: "N",
  SOUTH: "S",
  EAST: "E",
  WEST: "W",
};

function normalizeAddress(value: string | undefined): string | undefined {
  const text = normalizeText(value);
  if (text === undefined) return undefined;
  return text
    .split(" ")
    .map((t) => STREET_WORDS[t] ?? t)
    .join(" ");
}

/** US ZIP → its 5 digits; other postal codes → upper case without spaces. */
export function normalizePostalCode(value: string | undefined): string | undefined {
  const text = value?.trim().toUpperCase();
  if (text === undefined || text.length === 0) return undefined;
  const zip = /^(\d{5})(?:-?\d{4})?$/.exec(text);
  if (zip !== null) return zip[1] === "00000" || zip[1] === "99999" ? undefined : zip[1];
  const compact = text.replace(/[\s-]+/g, "");
  return compact.length === 0 ? undefined : compact;
}

const allSameDigit = (digits: string): boolean => /^(\d)\1*$/.test(digits);

/** Phone digits; NANP country code 1 removed; placeholders (0000000000, 9999999999…) → undefined. */
export function normalizePhone(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let digits = value.replace(/\D/g, "");
  if (digits.length === 11 && digits.startsWith("1")) digits = digits.slice(1);
  if (digits.length < 7 || allSameDigit(digits) || digits === "1234567890") return undefined;
  return digits;
}

const PLACEHOLDER_SSNS = new Set(["123456789", "987654321", "078051120"]);

/**
 * SSN / national identifier digits. Placeholders (000-00-0000, 999-99-9999, 123-45-6789, the
 * Woolworth card 078-05-1120) and US SSNs the SSA never issues (area 000 or 666, group 00,
 * serial 0000) → undefined. Other lengths are kept as opaque national identifiers.
 */
export function normalizeSsn(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const digits = value.replace(/\D/g, "");
  if (digits.length < 4 || allSameDigit(digits) || PLACEHOLDER_SSNS.has(digits)) return undefined;
  if (digits.length === 9) {
    const area = digits.slice(0, 3);
    if (area === "000" || area === "666" || digits.slice(3, 5) === "00" || digits.slice(5) === "0000")
      return undefined;
  }
  return digits;
}

const PLACEHOLDER_EMAIL_LOCALS = new Set([
  "none",
  "noemail",
  "no",
  "na",
  "unknown",
  "test",
  "noreply",
  "declined",
]);

function normalizeEmail(value: string | undefined): string | undefined {
  const text = value?.trim().toLowerCase();
  if (text === undefined) return undefined;
  const at = text.lastIndexOf("@");
  if (at <= 0 || at === text.length - 1) return undefined;
  if (PLACEHOLDER_EMAIL_LOCALS.has(text.slice(0, at))) return undefined;
  return text;
}

/** Compute every comparable value of a record once. */
export function normalizeRecord(record: LinkageRecord): NormalizedRecord {
  const givenName = nameTokens(record.given);
  const familyName = nameTokens(record.family);
  const middleName = nameTokens(record.middle);
  const given = givenName.tokens[0];
  const middle = middleName.tokens[0] ?? givenName.tokens[1];
  const family = familyName.tokens.length === 0 ? undefined : familyName.tokens.join("");
  const parts = familyName.tokens.filter((t) => t.length > 1 && !FAMILY_PARTICLES.has(t));
  const explicitSuffix = normalizeText(record.suffix);
  const address = normalizeAddress(record.addressLine);
  const house = address === undefined ? undefined : /^(\d+[A-Z]?)\b/.exec(address)?.[1];
  const mrn = record.mrn?.replace(/\s+/g, "").toUpperCase();
  return {
    id: record.id,
    facilityId: record.facilityId,
    mrn: mrn === undefined || mrn.length === 0 ? undefined : mrn,
    given,
    givenRoots: given === undefined ? [] : nicknameRoots(given),
    givenCode: given === undefined ? undefined : nysiis(given),
    middle,
    family,
    familyParts: parts.length > 1 ? parts : [],
    familyCode: family === undefined ? undefined : nysiis(family),
    suffix:
      (explicitSuffix === undefined ? undefined : SUFFIXES[explicitSuffix]) ??
      familyName.suffix ??
      givenName.suffix,
    birth: parseBirthDate(record.birthDate),
    sex: normalizeSex(record.sex),
    multipleBirthOrder: record.multipleBirthOrder,
    address,
    houseNumber: house,
    city: normalizeText(record.city),
    state: normalizeText(record.state),
    postalCode: normalizePostalCode(record.postalCode),
    phone: normalizePhone(record.phone),
    ssn: normalizeSsn(record.ssn),
    email: normalizeEmail(record.email),
  };
}
