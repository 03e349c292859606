import { ConversionError, DatePrecision, type PartialDate } from "@hix/proto";
import type { Delimiters } from "../delimiters.js";
import { unescapeValue } from "../escape.js";
import type { Hl7Message } from "../message.js";
import type { Hl7Segment } from "../segment.js";

/**
 * A segment of the message being mapped, with its location prefix for error messages:
 * `PID` for the first PID, `OBX[3]` for the third OBX (the path syntax of `Hl7Message.get`).
 */
export interface Seg {
  readonly segment: Hl7Segment;
  /** `PID`, `OBX[3]`: the segment part of a location string. */
  readonly at: string;
}

/** The message's segments in order, each with its location prefix. */
export function locate(msg: Hl7Message): Seg[] {
  const seen = new Map<string, number>();
  return msg.segments.map((segment) => {
    const n = (seen.get(segment.id) ?? 0) + 1;
    seen.set(segment.id, n);
    return { segment, at: n === 1 ? segment.id : `${segment.id}[${n}]` };
  });
}

/** Location string of a field of a segment: `PID-7`, `OBX[3]-5`. */
export function loc(s: Seg, field: number): string {
  return `${s.at}-${field}`;
}

function split(s: string, sep: string): string[] {
  return sep === "" ? [s] : s.split(sep);
}

/** The non-empty repetitions of field `n`, still encoded. */
export function reps(s: Seg, n: number): string[] {
  const f = s.segment.field(n);
  if (f === "") return [];
  return split(f, s.segment.delimiters.repetition).filter((r) => r !== "" && r !== '""');
}

/** Decoded primitive: unescaped and trimmed; the HL7 null `""` reads as empty. */
export function text(encoded: string | undefined, d: Delimiters): string {
  if (encoded === undefined || encoded === "" || encoded === '""') return "";
  return unescapeValue(encoded, d).trim();
}

/**
 * One repetition of a composite field as decoded components: `c(1)` is component 1
 * (its first subcomponent), `sub(1, 2)` subcomponent 2 of component 1; "" when absent.
 */
export class Composite {
  private readonly parts: string[];
  constructor(
    encoded: string,
    private readonly d: Delimiters,
  ) {
    this.parts = split(encoded, d.component);
  }
  c(n: number): string {
    return this.sub(n, 1);
  }
  sub(n: number, k: number): string {
    const comp = this.parts[n - 1];
    if (comp === undefined) return "";
    return text(split(comp, this.d.subcomponent)[k - 1], this.d);
  }
  /** Component n with its subcomponent separators kept as text (for fields whose parts are not split further). */
  whole(n: number): string {
    return text(this.parts[n - 1], this.d);
  }
}

/** Every non-empty repetition of field `n` as a Composite. */
export function composites(s: Seg, n: number): Composite[] {
  return reps(s, n).map((r) => new Composite(r, s.segment.delimiters));
}

/** The first repetition of field `n`, or an empty composite. */
export function first(s: Seg, n: number): Composite {
  return new Composite(reps(s, n)[0] ?? "", s.segment.delimiters);
}

/** Field `n`, first repetition, component 1, decoded. */
export function value(s: Seg, n: number): string {
  return first(s, n).c(1);
}

// ---- dates and times (HL7 v2.5 §2.A.22 DTM / §2.A.74 TS, §2.A.21 DT) ----

const DTM = /^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,4}))?([+-]\d{4})?$/;

interface Dtm {
  year: number;
  month?: number;
  day?: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
  offsetMinutes: number;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * Parses a DTM/TS value `YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]`. Impossible values
 * (month 13, 30 February, hour 24, offset +2500) are refused, never shifted. The error names
 * the location, never the value (PHI).
 */
function parseDtm(raw: string, location: string): Dtm {
  // TS has the precision as a second component (deprecated); only the first counts.
  const m = DTM.exec(raw);
  if (m === null) {
    throw new ConversionError(
      "hl7.bad_timestamp",
      location,
      "not an HL7 date/time (YYYY[MM[DD[HH[MM[SS[.S]]]]]][+/-ZZZZ])",
    );
  }
  const impossible = (what: string): ConversionError =>
    new ConversionError("hl7.impossible_date", location, `impossible ${what} in date/time`);
  const num = (g: string | undefined): number | undefined => (g === undefined ? undefined : Number(g));
  const month = num(m[2]);
  const day = num(m[3]);
  const hour = num(m[4]) ?? 0;
  const minute = num(m[5]) ?? 0;
  const second = num(m[6]) ?? 0;
  const year = Number(m[1]);
  if (month !== undefined && (month < 1 || month > 12)) throw impossible("month");
  if (day !== undefined && (day < 1 || day > daysInMonth(year, month ?? 1))) throw impossible("day of month");
  if (hour > 23) throw impossible("hour");
  if (minute > 59) throw impossible("minute");
  if (second > 59) throw impossible("second");
  let offsetMinutes = 0;
  if (m[8] !== undefined) {
    const oh = Number(m[8].slice(1, 3));
    const om = Number(m[8].slice(3, 5));
    if (oh > 14 || om > 59) throw impossible("time zone offset");
    offsetMinutes = (m[8].startsWith("-") ? -1 : 1) * (oh * 60 + om);
  }
  const dtm: Dtm = {
    year,
    hour,
    minute,
    second,
    millisecond: m[7] === undefined ? 0 : Math.round(Number(`0.${m[7]}`) * 1000),
    offsetMinutes,
  };
  if (month !== undefined) dtm.month = month;
  if (day !== undefined) dtm.day = day;
  return dtm;
}

/**
 * An instant from a DTM/TS value. The offset, when given, is honoured (`…+0215` is 2h15 ahead
 * of UTC); a value without one is read as UTC. Missing parts take their first value
 * (a date alone is midnight).
 */
export function instant(raw: string, location: string): Date | undefined {
  if (raw === "") return undefined;
  const t = parseDtm(raw, location);
  const ms = Date.UTC(t.year, (t.month ?? 1) - 1, t.day ?? 1, t.hour, t.minute, t.second, t.millisecond);
  const d = new Date(ms - t.offsetMinutes * 60_000);
  // Date.UTC maps years 0-99 to 1900-1999; set the year explicitly.
  if (t.year < 100) d.setUTCFullYear(d.getUTCFullYear() - 1900);
  return d;
}

/** A calendar date to the precision the value has (YYYY, YYYYMM, YYYYMMDD); time and zone are dropped. */
export function partialDate(raw: string, location: string): PartialDate | undefined {
  if (raw === "") return undefined;
  const t = parseDtm(raw, location);
  if (t.month === undefined) return { year: t.year, month: 0, day: 0, precision: DatePrecision.YEAR };
  if (t.day === undefined) return { year: t.year, month: t.month, day: 0, precision: DatePrecision.MONTH };
  return { year: t.year, month: t.month, day: t.day, precision: DatePrecision.DAY };
}
