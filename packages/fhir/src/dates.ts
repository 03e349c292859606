import { ConversionError, DatePrecision, type PartialDate } from "@hix/proto";

// FHIR R4 primitive formats (https://hl7.org/fhir/R4/datatypes.html#primitive):
//   date      YYYY, YYYY-MM, YYYY-MM-DD
//   dateTime  a date, or YYYY-MM-DDThh:mm:ss(.sss)(Z|+hh:mm) — a time always has a zone
//   instant   always to the second with a zone
// Regular expressions check the shape; the calendar is checked separately so that
// 2023-02-30 or month 13 is refused rather than rolled over by Date.
const DATE = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/;
const DATE_TIME =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

function invalid(location: string, kind: string): ConversionError {
  return new ConversionError(
    "fhir.invalid_date",
    location,
    `not a valid FHIR ${kind} (impossible or malformed)`,
  );
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function checkCalendar(year: number, month: number | undefined, day: number | undefined): boolean {
  if (year < 1) return false;
  if (month === undefined) return true;
  if (month < 1 || month > 12) return false;
  if (day === undefined) return true;
  return day >= 1 && day <= daysInMonth(year, month);
}

function num(s: string | undefined): number | undefined {
  return s === undefined ? undefined : Number(s);
}

/** A FHIR `date` (or the date part of a `dateTime`) as a PartialDate that keeps its precision. */
export function toPartialDate(value: unknown, location: string, kind = "date"): PartialDate {
  if (typeof value !== "string") throw invalid(location, kind);
  const m = (kind === "date" ? DATE : DATE_TIME).exec(value);
  if (!m) throw invalid(location, kind);
  const year = Number(m[1]);
  const month = num(m[2]);
  const day = num(m[3]);
  if (!checkCalendar(year, month, day)) throw invalid(location, kind);
  if (kind !== "date") checkTime(m, location, kind);
  return {
    year,
    month: month ?? 0,
    day: day ?? 0,
    precision:
      day !== undefined ? DatePrecision.DAY : month !== undefined ? DatePrecision.MONTH : DatePrecision.YEAR,
  };
}

function checkTime(m: RegExpExecArray, location: string, kind: string): void {
  const [hh, mm, ss, zone] = [num(m[4]), num(m[5]), num(m[6]), m[8]];
  if (hh === undefined) return;
  if (hh > 23 || (mm ?? 0) > 59 || (ss ?? 0) > 59) throw invalid(location, kind);
  if (zone !== undefined && zone !== "Z") {
    const [zh, zm] = zone.slice(1).split(":").map(Number);
    if ((zh ?? 0) > 14 || (zm ?? 0) > 59) throw invalid(location, kind);
  }
}

/**
 * A FHIR `dateTime` or `instant` as a Date. A partial value stands for its first
 * instant (2019-04 → 2019-04-01T00:00Z); a time without a zone (not allowed by R4,
 * but sent) is read as UTC.
 */
export function toInstant(value: unknown, location: string, kind = "dateTime"): Date {
  if (typeof value !== "string") throw invalid(location, kind);
  const m = DATE_TIME.exec(value);
  if (!m) throw invalid(location, kind);
  const year = Number(m[1]);
  const month = num(m[2]);
  const day = num(m[3]);
  if (!checkCalendar(year, month, day)) throw invalid(location, kind);
  checkTime(m, location, kind);
  const millis = m[7] === undefined ? 0 : Math.floor(Number(m[7]) * 1000);
  let t = Date.UTC(year, (month ?? 1) - 1, day ?? 1, num(m[4]) ?? 0, num(m[5]) ?? 0, num(m[6]) ?? 0, millis);
  // Date.UTC maps years 0-99 to 1900-1999; set the year explicitly.
  if (year < 100) {
    const d = new Date(t);
    d.setUTCFullYear(year);
    t = d.getTime();
  }
  const zone = m[8];
  if (zone !== undefined && zone !== "Z") {
    const sign = zone.startsWith("-") ? -1 : 1;
    const [zh, zm] = zone.slice(1).split(":").map(Number);
    t -= sign * ((zh ?? 0) * 60 + (zm ?? 0)) * 60_000;
  }
  return new Date(t);
}

/** PartialDate back to a FHIR `date` at its own precision; undefined when the precision is unknown. */
export function fromPartialDate(date: PartialDate | undefined): string | undefined {
  if (date === undefined || date.precision === DatePrecision.UNSPECIFIED) return undefined;
  const y = String(date.year).padStart(4, "0");
  if (date.precision === DatePrecision.YEAR) return y;
  const m = String(date.month).padStart(2, "0");
  if (date.precision === DatePrecision.MONTH) return `${y}-${m}`;
  return `${y}-${m}-${String(date.day).padStart(2, "0")}`;
}

/** A Date as a FHIR `dateTime` / `instant` in UTC. */
export function fromInstant(date: Date | undefined): string | undefined {
  return date === undefined ? undefined : date.toISOString();
}
