// @hix/csv: CSV patient exports ⇄ hix patient announcements, through a column mapping kept
// in the facility profile. Field table: docs/mappings/csv.md.

export { csvToCanonical, canonicalToCsv, type CsvOptions } from "./convert.js";
export {
  CsvMappingSchema,
  CANONICAL_CSV_MAPPING,
  CANONICAL_CSV_COLUMNS,
  CSV_FIELDS,
  DATE_FORMATS,
  type CsvMapping,
  type CsvMappingInput,
  type CsvField,
  type DateFormat,
} from "./mapping.js";
export { parseDate, formatDate } from "./dates.js";
