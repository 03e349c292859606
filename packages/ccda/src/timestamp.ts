import { ConversionError, DatePrecision, type PartialDate } from "@hix/proto";

/**
 * HL7 V3 TS (point in time) as used by CDA R2: `YYYY[MM[DD[HH[MM[SS[.S+]]]]]][+/-ZZZZ]`
 * (HL7 V3 Data Types R1, TS). Any prefix is a valid value whose precision is its length.
 * Impossible values (month 13, 30 February, hour 25, offset +2500) are refused, not shifted.
 */
export interface HL7Timestamp {
  year: number;
  month?: number;
  day?: number;
  hour?: number;
  minute?: number;
  second?: number;
  millisecond?: number;
  /** Offset from UTC in minutes, when the value states one. */
  offsetMinutes?: number;
}

const TS = /^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,6}))?([+-]\d{4})?$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Parses a TS value; throws ConversionError at `location` when malformed or impossible. */
export function parseTs(value: string, location: string): HL7Timestamp {
  const m = TS.exec(value);
  if (m === null) {
    throw new ConversionError(
      "ccda.bad_timestamp",
      location,
      "not an HL7 TS value (YYYYMMDDHHMMSS[.S][+/-ZZZZ])",
    );
  }
  const num = (s: string | undefined): number | undefined => (s === undefined ? undefined : Number(s));
  const ts: HL7Timestamp = { year: Number(m[1]) };
  const month = num(m[2]);
  const day = num(m[3]);
  const hour = num(m[4]);
  const minute = num(m[5]);
  const second = num(m[6]);
  const impossible = (what: string): ConversionError =>
    new ConversionError("ccda.impossible_date", location, `impossible ${what} in timestamp`);
  if (month !== undefined) {
    if (month < 1 || month > 12) throw impossible("month");
    ts.month = month;
  }
  if (day !== undefined) {
    if (day < 1 || day > daysInMonth(ts.year, ts.month ?? 1)) throw impossible("day of month");
    ts.day = day;
  }
  if (hour !== undefined) {
    if (hour > 23) throw impossible("hour");
    ts.hour = hour;
  }
  if (minute !== undefined) {
    if (minute > 59) throw impossible("minute");
    ts.minute = minute;
  }
  if (second !== undefined) {
    if (second > 59) throw impossible("second");
    ts.second = second;
  }
  if (m[7] !== undefined) ts.millisecond = Math.round(Number(`0.${m[7]}`) * 1000);
  if (m[8] !== undefined) {
    const sign = m[8].startsWith("-") ? -1 : 1;
    const oh = Number(m[8].slice(1, 3));
    const om = Number(m[8].slice(3, 5));
    if (oh > 14 || om > 59) throw impossible("time zone offset");
    ts.offsetMinutes = sign * (oh * 60 + om);
  }
  return ts;
}

/** The calendar date part of a TS, to the precision it has (time of day and zone dropped). */
export function toPartialDate(ts: HL7Timestamp): PartialDate {
  if (ts.month === undefined) return { year: ts.year, month: 0, day: 0, precision: DatePrecision.YEAR };
  if (ts.day === undefined) return { year: ts.year, month: ts.month, day: 0, precision: DatePrecision.MONTH };
  return { year: ts.year, month: ts.month, day: ts.day, precision: DatePrecision.DAY };
}

/**
 * The instant a TS names. Missing parts take their lowest value (a year-only TS becomes
 * 1 January 00:00); a TS without an offset is read as UTC, since CDA leaves it to the sender
 * and the receiver has no better guess.
 */
export function toInstant(ts: HL7Timestamp): Date {
  const utc = Date.UTC(
    ts.year,
    (ts.month ?? 1) - 1,
    ts.day ?? 1,
    ts.hour ?? 0,
    ts.minute ?? 0,
    ts.second ?? 0,
    ts.millisecond ?? 0,
  );
  const d = new Date(utc - (ts.offsetMinutes ?? 0) * 60_000);
  // Date.UTC maps years 0-99 to 1900-1999; set the year explicitly for those.
  if (ts.year < 100) d.setUTCFullYear(ts.year);
  return d;
}
