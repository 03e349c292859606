import { DatePrecision, type PartialDate } from "@hix/proto";
import type { DateFormat } from "./mapping.js";

/** Why a date cell was refused: it matched no layout, or matched one but names no real day. */
export type DateProblem = "format" | "impossible";

const LAYOUTS: Record<DateFormat, { re: RegExp; order: Array<"y" | "m" | "d"> }> = {
  "YYYY-MM-DD": { re: /^(\d{4})-(\d{1,2})-(\d{1,2})$/, order: ["y", "m", "d"] },
  YYYYMMDD: { re: /^(\d{4})(\d{2})(\d{2})$/, order: ["y", "m", "d"] },
  "MM/DD/YYYY": { re: /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/, order: ["m", "d", "y"] },
  "DD/MM/YYYY": { re: /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/, order: ["d", "m", "y"] },
  "DD.MM.YYYY": { re: /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/, order: ["d", "m", "y"] },
  "YYYY/MM/DD": { re: /^(\d{4})\/(\d{1,2})\/(\d{1,2})$/, order: ["y", "m", "d"] },
  "YYYY-MM": { re: /^(\d{4})-(\d{1,2})$/, order: ["y", "m"] },
  YYYYMM: { re: /^(\d{4})(\d{2})$/, order: ["y", "m"] },
  YYYY: { re: /^(\d{4})$/, order: ["y"] },
};

/**
 * Reads a date cell with the first layout that matches its shape. Partial dates stay partial
 * (`1975-05` is May 1975; with zeroMeansUnknown `19750500` is too). Impossible dates
 * (month 13, 30 February) are refused, never rolled over into the next month.
 */
export function parseDate(
  value: string,
  formats: readonly DateFormat[],
  zeroMeansUnknown: boolean,
): PartialDate | DateProblem {
  for (const f of formats) {
    const layout = LAYOUTS[f];
    const m = layout.re.exec(value);
    if (m === null) continue;
    const parts: Record<"y" | "m" | "d", number | undefined> = { y: undefined, m: undefined, d: undefined };
    layout.order.forEach((k, i) => (parts[k] = Number(m[i + 1])));
    return checkDate(parts.y ?? 0, parts.m, parts.d, zeroMeansUnknown);
  }
  return "format";
}

function checkDate(
  year: number,
  month: number | undefined,
  day: number | undefined,
  zeroUnknown: boolean,
): PartialDate | DateProblem {
  if (year < 1) return "impossible";
  if (zeroUnknown && month === 0) {
    if (day !== undefined && day !== 0) return "impossible";
    month = undefined;
    day = undefined;
  }
  if (zeroUnknown && day === 0) day = undefined;
  if (month === undefined) return { year, month: 0, day: 0, precision: DatePrecision.YEAR };
  if (month < 1 || month > 12) return "impossible";
  if (day === undefined) return { year, month, day: 0, precision: DatePrecision.MONTH };
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > last) return "impossible";
  return { year, month, day, precision: DatePrecision.DAY };
}

/** Writes a date in a layout; a partial date drops the parts it does not know (and their separators). */
export function formatDate(date: PartialDate, format: DateFormat): string {
  const y = String(date.year).padStart(4, "0");
  const m = String(date.month).padStart(2, "0");
  const d = String(date.day).padStart(2, "0");
  if (date.precision === DatePrecision.YEAR) return y;
  if (date.precision === DatePrecision.MONTH)
    return format.includes("-") || format.includes("/") || format.includes(".") ? `${y}-${m}` : `${y}${m}`;
  switch (format) {
    case "YYYY-MM-DD":
      return `${y}-${m}-${d}`;
    case "YYYYMMDD":
      return `${y}${m}${d}`;
    case "MM/DD/YYYY":
      return `${m}/${d}/${y}`;
    case "DD/MM/YYYY":
      return `${d}/${m}/${y}`;
    case "DD.MM.YYYY":
      return `${d}.${m}.${y}`;
    case "YYYY/MM/DD":
      return `${y}/${m}/${d}`;
    case "YYYY-MM":
      return `${y}-${m}`;
    case "YYYYMM":
      return `${y}${m}`;
    case "YYYY":
      return y;
  }
}
