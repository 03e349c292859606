import { parse } from "csv-parse/sync";
import {
  AddressUse,
  AdministrativeSex,
  AnnouncementKind,
  type Conversion,
  ConversionError,
  type ConversionWarning,
  ContactPointSystem,
  type EnvelopeBody,
  type Identifier,
  NameUse,
  Patient,
  PatientAnnouncement,
} from "@hix/proto";
import type { CANONICAL_SEXES } from "./mapping.js";
import { type CsvField, type CsvMapping } from "./mapping.js";
import { formatDate, parseDate } from "./dates.js";

export interface CsvOptions {
  /** hix id of the facility the export comes from; a `facilityId` column overrides it per row. */
  facilityId?: string;
  /** What a bad row does: "fail" (default) refuses the file; "skip" leaves the row out with a warning. */
  onBadRow?: "fail" | "skip";
  /** Largest input accepted, in characters; default 64 Mi. */
  maxChars?: number;
}

const DEFAULT_MAX_CHARS = 64 * 1024 * 1024;

const SEX_WORDS: Record<string, AdministrativeSex> = {
  f: AdministrativeSex.FEMALE,
  female: AdministrativeSex.FEMALE,
  m: AdministrativeSex.MALE,
  male: AdministrativeSex.MALE,
  o: AdministrativeSex.OTHER,
  other: AdministrativeSex.OTHER,
  u: AdministrativeSex.UNKNOWN,
  unknown: AdministrativeSex.UNKNOWN,
};

const CANONICAL_SEX: Record<(typeof CANONICAL_SEXES)[number], AdministrativeSex> = {
  female: AdministrativeSex.FEMALE,
  male: AdministrativeSex.MALE,
  other: AdministrativeSex.OTHER,
  unknown: AdministrativeSex.UNKNOWN,
};

/** A row the mapping cannot carry: where (line, column name) and why — never the value. */
class BadRow extends Error {
  constructor(
    readonly code: string,
    readonly line: number,
    readonly column: string | undefined,
    readonly reason: string,
  ) {
    super(reason);
  }
  get location(): string {
    return this.column === undefined ? `line ${this.line}` : `line ${this.line}, column ${this.column}`;
  }
}

/**
 * A CSV patient export → one `patientAnnouncement` (REGISTERED, source event "csv:row") per
 * data row, through the facility's column mapping. Lines are counted from 1 (the header row is
 * line 1); a row's line is the physical line it ends on.
 *
 * Bad rows — wrong column count, a date that matches no layout or is impossible, an unknown
 * sex value, a required field left empty — refuse the file with a ConversionError at
 * `line N, column C` (onBadRow "fail"), or are left out with a warning at `line N`
 * (onBadRow "skip"). Neither ever carries the cell's value.
 */
export function csvToCanonical(text: string, mapping: CsvMapping, options: CsvOptions = {}): Conversion {
  if (text.length > (options.maxChars ?? DEFAULT_MAX_CHARS)) {
    throw new ConversionError(
      "csv.too_large",
      "line 1",
      `input is ${text.length} characters, over the limit`,
    );
  }
  const records = readRecords(text, mapping);
  let columns: string[];
  let rows = records;
  if (mapping.header) {
    const first = records[0];
    if (first === undefined) return { bodies: [], warnings: [] };
    columns = first.record;
    rows = records.slice(1);
  } else {
    columns = mapping.columnNames ?? [];
  }
  const index = columnIndex(columns, mapping);
  const onBad = options.onBadRow ?? "fail";
  const bodies: EnvelopeBody[] = [];
  const warnings: ConversionWarning[] = [];
  for (const { record, line } of rows) {
    try {
      if (record.length !== columns.length) {
        throw new BadRow(
          "csv.column_count",
          line,
          undefined,
          `row has ${record.length} columns, expected ${columns.length}`,
        );
      }
      const patient = rowToPatient(record, line, index, mapping, options.facilityId ?? "");
      bodies.push({
        $case: "patientAnnouncement",
        value: PatientAnnouncement.fromPartial({
          kind: AnnouncementKind.REGISTERED,
          patient,
          sourceEvent: "csv:row",
        }),
      });
    } catch (err) {
      if (!(err instanceof BadRow)) throw err;
      if (onBad === "fail") throw new ConversionError(err.code, err.location, err.reason);
      warnings.push({
        code: err.code,
        location: `line ${err.line}`,
        message:
          err.column === undefined
            ? `${err.reason}; row skipped`
            : `column ${err.column}: ${err.reason}; row skipped`,
      });
    }
  }
  return { bodies, warnings };
}

interface Row {
  record: string[];
  line: number;
}

function readRecords(text: string, mapping: CsvMapping): Row[] {
  try {
    // With `info: true` csv-parse returns { record, info } per row; its sync typing does not say so.
    const out = parse(text, {
      delimiter: mapping.delimiter,
      bom: true,
      trim: mapping.trim,
      relax_column_count: true,
      skip_empty_lines: true,
      info: true,
    }) as unknown as Array<{ record: string[]; info: { lines: number } }>;
    return out.map((r) => ({ record: r.record, line: r.info.lines }));
  } catch (err) {
    // csv-parse messages quote the offending field; only its code and line are passed on.
    const e = err as { code?: unknown; lines?: unknown };
    const code = typeof e.code === "string" ? e.code : "CSV_ERROR";
    const line = typeof e.lines === "number" ? e.lines : 0;
    throw new ConversionError("csv.malformed", `line ${line}`, `not readable as CSV (${code})`, {
      cause: err,
    });
  }
}

type Index = Partial<Record<CsvField, Array<{ name: string; at: number }>>>;

/** Where each mapped column is; a mapped column missing from the header refuses the file. */
function columnIndex(columns: string[], mapping: CsvMapping): Index {
  const index: Index = {};
  for (const [field, ref] of Object.entries(mapping.fields) as Array<
    [CsvField, string | string[] | undefined]
  >) {
    if (ref === undefined) continue;
    const names = Array.isArray(ref) ? ref : [ref];
    index[field] = names.map((name) => {
      const at = columns.indexOf(name);
      if (at < 0) {
        throw new ConversionError(
          "csv.missing_column",
          "line 1",
          `mapped column ${JSON.stringify(name)} (${field}) is not in the header`,
        );
      }
      return { name, at };
    });
  }
  return index;
}

function rowToPatient(
  record: string[],
  line: number,
  index: Index,
  mapping: CsvMapping,
  facilityId: string,
): Patient {
  const get = (field: CsvField): string =>
    (index[field] ?? [])
      .map((c) => record[c.at] ?? "")
      .filter((v) => v !== "")
      .join(" ");
  const columnOf = (field: CsvField): string => index[field]?.[0]?.name ?? field;

  for (const field of mapping.required) {
    if (get(field) === "")
      throw new BadRow("csv.required_missing", line, columnOf(field), "required value is empty");
  }

  const patient = Patient.fromPartial({ sourceFacility: get("facilityId") || facilityId });
  let given = get("given");
  let family = get("family");
  const full = get("fullName");
  if (full !== "" && given === "" && family === "")
    [given, family] = splitFullName(full, mapping.fullNameOrder);
  const middle = get("middle");
  const givens = [given, ...middle.split(/\s+/)].filter((g) => g !== "");
  if (givens.length > 0 || family !== "") {
    patient.names.push({ use: NameUse.UNSPECIFIED, family, given: givens, prefix: [], suffix: [], text: "" });
  }

  const birth = get("birthDate");
  if (birth !== "") {
    const d = parseDate(birth, mapping.dateFormats, mapping.zeroMeansUnknown);
    if (d === "format")
      throw new BadRow(
        "csv.bad_date",
        line,
        columnOf("birthDate"),
        `date matches none of the formats ${mapping.dateFormats.join(", ")}`,
      );
    if (d === "impossible")
      throw new BadRow(
        "csv.impossible_date",
        line,
        columnOf("birthDate"),
        "impossible date (no such month or day)",
      );
    patient.birthDate = d;
  }

  const sexValue = get("sex");
  if (sexValue !== "") {
    const key = sexValue.toLowerCase();
    const configured = Object.entries(mapping.sexValues).find(([k]) => k.toLowerCase() === key)?.[1];
    const sex = configured !== undefined ? CANONICAL_SEX[configured] : SEX_WORDS[key];
    if (sex === undefined)
      throw new BadRow("csv.unknown_sex", line, columnOf("sex"), "sex value not in the mapping's sex values");
    patient.sex = sex;
  }

  const identifiers: Identifier[] = [];
  const mrn = get("mrn");
  if (mrn !== "")
    identifiers.push({
      value: mrn,
      system: mapping.mrnSystem,
      assigner: patient.sourceFacility,
      typeCode: "MR",
    });
  const ssn = get("ssn");
  if (ssn !== "") identifiers.push({ value: ssn, system: mapping.ssnSystem, assigner: "", typeCode: "SS" });
  patient.identifiers = identifiers;
  patient.localPatientId = mrn || get("recordId");

  const lines = [get("addressLine"), get("addressLine2")].filter((l) => l !== "");
  const city = get("city");
  const state = get("state");
  const postalCode = get("postalCode");
  if (lines.length > 0 || city !== "" || state !== "" || postalCode !== "") {
    patient.addresses.push({
      use: AddressUse.HOME,
      lines,
      city,
      state,
      postalCode,
      country: "",
      district: "",
    });
  }
  const phone = get("phone");
  if (phone !== "") patient.telecom.push({ system: ContactPointSystem.PHONE, value: phone, use: 0, rank: 0 });
  const email = get("email");
  if (email !== "") patient.telecom.push({ system: ContactPointSystem.EMAIL, value: email, use: 0, rank: 0 });
  return patient;
}

/** "Family, Given Middle" or "Given Middle Family" → [given names, family]. */
function splitFullName(full: string, order: CsvMapping["fullNameOrder"]): [string, string] {
  if (order === "family_comma_given") {
    const comma = full.indexOf(",");
    if (comma < 0) return ["", full.trim()];
    return [full.slice(comma + 1).trim(), full.slice(0, comma).trim()];
  }
  const parts = full.trim().split(/\s+/);
  const family = parts.pop() ?? "";
  return [parts.join(" "), family];
}

/**
 * Patient announcements (and the patient of transfers and referrals) → CSV text in the mapping's
 * layout, header row first when the mapping has one, CRLF line ends (RFC 4180), fields quoted
 * when they hold the delimiter, a quote or a line break. A field mapped from several columns
 * is written whole into the first of them. Dates use the mapping's first date format.
 */
export function canonicalToCsv(bodies: readonly EnvelopeBody[], mapping: CsvMapping): string {
  const columns = mapping.header ? headerColumns(mapping) : (mapping.columnNames ?? []);
  const lines: string[] = [];
  if (mapping.header) lines.push(columns.map((c) => quote(c, mapping.delimiter)).join(mapping.delimiter));
  for (const body of bodies) {
    const patient =
      body.$case === "patientAnnouncement" ||
      body.$case === "recordTransfer" ||
      body.$case === "referralPacket"
        ? body.value.patient
        : undefined;
    if (patient === undefined) continue;
    const values = patientValues(patient, mapping);
    const row = columns.map(() => "");
    for (const [field, ref] of Object.entries(mapping.fields) as Array<
      [CsvField, string | string[] | undefined]
    >) {
      if (ref === undefined) continue;
      const at = columns.indexOf(Array.isArray(ref) ? (ref[0] ?? "") : ref);
      if (at >= 0) row[at] = values[field] ?? "";
    }
    lines.push(row.map((v) => quote(v, mapping.delimiter)).join(mapping.delimiter));
  }
  return lines.map((l) => `${l}\r\n`).join("");
}

function headerColumns(mapping: CsvMapping): string[] {
  const out: string[] = [];
  for (const ref of Object.values(mapping.fields)) {
    for (const name of Array.isArray(ref) ? ref : ref === undefined ? [] : [ref])
      if (!out.includes(name)) out.push(name);
  }
  return out;
}

function patientValues(p: Patient, mapping: CsvMapping): Partial<Record<CsvField, string>> {
  const name = p.names[0];
  const given = name?.given[0] ?? "";
  const middle = name?.given.slice(1).join(" ") ?? "";
  const family = name?.family ?? "";
  const addr = p.addresses[0];
  const sexEntry = Object.entries(mapping.sexValues).find(([, v]) => CANONICAL_SEX[v] === p.sex)?.[0];
  const sexDefault: Partial<Record<AdministrativeSex, string>> = {
    [AdministrativeSex.FEMALE]: "F",
    [AdministrativeSex.MALE]: "M",
    [AdministrativeSex.OTHER]: "O",
    [AdministrativeSex.UNKNOWN]: "U",
  };
  const fullName =
    mapping.fullNameOrder === "family_comma_given"
      ? [family, [given, middle].filter((g) => g !== "").join(" ")].filter((s) => s !== "").join(", ")
      : [given, middle, family].filter((s) => s !== "").join(" ");
  const mrn = p.identifiers.find((i) => i.typeCode === "MR")?.value ?? "";
  return {
    recordId: p.localPatientId,
    facilityId: p.sourceFacility,
    mrn,
    given,
    middle,
    family,
    fullName,
    birthDate:
      p.birthDate === undefined ? "" : formatDate(p.birthDate, mapping.dateFormats[0] ?? "YYYY-MM-DD"),
    sex: sexEntry ?? sexDefault[p.sex] ?? "",
    ssn: p.identifiers.find((i) => i.typeCode === "SS")?.value ?? "",
    addressLine: addr?.lines[0] ?? "",
    addressLine2: addr?.lines.slice(1).join(" ") ?? "",
    city: addr?.city ?? "",
    state: addr?.state ?? "",
    postalCode: addr?.postalCode ?? "",
    phone: p.telecom.find((t) => t.system === ContactPointSystem.PHONE)?.value ?? "",
    email: p.telecom.find((t) => t.system === ContactPointSystem.EMAIL)?.value ?? "",
  };
}

function quote(value: string, delimiter: string): string {
  if (value.includes(delimiter) || value.includes('"') || value.includes("\n") || value.includes("\r")) {
    return `"${value.replace(/"/g, '""')}"`;
  }
  return value;
}
