/**
 * Input of `hix match`: a CSV reader (RFC 4180: quoted fields, doubled quotes, CRLF or LF) that
 * reports each bad row by line number instead of failing the file, and the two accepted layouts —
 * hix canonical and FEBRL (the record-linkage benchmark format: space after commas, YYYYMMDD).
 */
import { CANONICAL_CSV_COLUMNS } from "@hix/csv";
import type { LinkageRecord } from "@hix/linkage";

/** The hix canonical patient export's columns, as `@hix/csv` defines them. */
export const CANONICAL_HEADER = CANONICAL_CSV_COLUMNS;

export const FEBRL_HEADER = [
  "rec_id",
  "given_name",
  "surname",
  "street_number",
  "address_1",
  "address_2",
  "suburb",
  "postcode",
  "state",
  "date_of_birth",
  "soc_sec_id",
] as const;

export type InputFormat = "canonical" | "febrl";

export interface CsvRow {
  /** 1-based line where the row starts. */
  readonly line: number;
  readonly fields: string[];
}

/** Splits CSV text into rows; an unterminated quote ends the file as an error row. */
export function* readCsv(text: string): Generator<CsvRow | { line: number; error: string }> {
  let line = 1;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const start = line;
    const fields: string[] = [];
    let field = "";
    let quoted = false;
    let done = false;
    while (!done) {
      if (i >= n) {
        if (quoted) {
          yield { line: start, error: "quoted value not closed before end of file" };
          return;
        }
        fields.push(field);
        done = true;
        break;
      }
      const ch = text[i]!;
      if (quoted) {
        if (ch === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
          } else {
            quoted = false;
            i++;
          }
        } else {
          if (ch === "\n") line++;
          field += ch;
          i++;
        }
      } else if (ch === '"' && field.trim() === "") {
        quoted = true;
        field = "";
        i++;
      } else if (ch === ",") {
        fields.push(field);
        field = "";
        i++;
      } else if (ch === "\n" || ch === "\r") {
        fields.push(field);
        i += ch === "\r" && text[i + 1] === "\n" ? 2 : 1;
        line++;
        done = true;
      } else {
        field += ch;
        i++;
      }
    }
    if (fields.length === 1 && fields[0]!.trim() === "") continue; // blank line
    yield { line: start, fields: fields.map((f) => f.trim()) };
  }
}

const opt = (v: string | undefined): string | undefined => (v === undefined || v === "" ? undefined : v);

/** One data row as a linkage record, or why it cannot be one (no values in the message: PHI). */
export function rowToRecord(format: InputFormat, fields: readonly string[]): LinkageRecord | string {
  const expected = format === "canonical" ? CANONICAL_HEADER.length : FEBRL_HEADER.length;
  if (fields.length !== expected) return `has ${fields.length} fields, expected ${expected}`;
  const f = (i: number): string | undefined => opt(fields[i]);
  const id = f(0);
  if (id === undefined) return "has an empty record id";
  const record: Record<string, string | undefined> =
    format === "canonical"
      ? {
          id,
          facilityId: f(1),
          mrn: f(2),
          given: f(3),
          middle: f(4),
          family: f(5),
          birthDate: f(6),
          sex: f(7),
          addressLine: f(8),
          city: f(9),
          state: f(10),
          postalCode: f(11),
          phone: f(12),
          ssn: f(13),
        }
      : {
          id,
          given: f(1),
          family: f(2),
          // street_number + address_1; address_2 is a building or locality name (as the eval does).
          addressLine: opt([f(3), f(4)].filter((x) => x !== undefined).join(" ")),
          city: f(6),
          postalCode: f(7),
          state: f(8),
          birthDate: f(9),
          ssn: f(10),
        };
  return Object.fromEntries(
    Object.entries(record).filter(([, v]) => v !== undefined),
  ) as unknown as LinkageRecord;
}

/** Whether a header row matches the format (names compared trimmed and case-insensitively). */
export function headerMatches(format: InputFormat, fields: readonly string[]): boolean {
  const want = format === "canonical" ? CANONICAL_HEADER : FEBRL_HEADER;
  return fields.length === want.length && fields.every((f, i) => f.toLowerCase() === want[i]);
}
