import { z } from "zod";

/**
 * How one facility's CSV patient export maps onto the canonical Patient. Embedded in the
 * facility profile (packages/adapter-kit), so it is a zod schema: parse the profile once at
 * start-up and every problem is reported together.
 */

/** The canonical fields a column can feed. */
export const CSV_FIELDS = [
  "recordId",
  "facilityId",
  "mrn",
  "given",
  "middle",
  "family",
  "fullName",
  "birthDate",
  "sex",
  "ssn",
  "addressLine",
  "addressLine2",
  "city",
  "state",
  "postalCode",
  "phone",
  "email",
] as const;
export type CsvField = (typeof CSV_FIELDS)[number];

/** Date layouts a column may use; tried in order. `YYYY-MM` and `YYYY` give partial dates. */
export const DATE_FORMATS = [
  "YYYY-MM-DD",
  "YYYYMMDD",
  "MM/DD/YYYY",
  "DD/MM/YYYY",
  "DD.MM.YYYY",
  "YYYY/MM/DD",
  "YYYY-MM",
  "YYYYMM",
  "YYYY",
] as const;
export type DateFormat = (typeof DATE_FORMATS)[number];

export const CANONICAL_SEXES = ["female", "male", "other", "unknown"] as const;

const columnRef = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

export const CsvMappingSchema = z
  .object({
    /** Field separator (one or more characters). FEBRL uses "," followed by a space, handled by `trim`. */
    delimiter: z.string().min(1).default(","),
    /** Whether the first line names the columns. */
    header: z.boolean().default(true),
    /** Column names when there is no header row (in file order); with a header row, unused. */
    columnNames: z.array(z.string().min(1)).optional(),
    /** Trim blanks around every field (FEBRL's ", " separator, padded exports). */
    trim: z.boolean().default(true),
    /**
     * Canonical field → source column name. Several columns joined with a space for one field
     * (e.g. FEBRL street_number + address_1 → addressLine).
     */
    fields: z.partialRecord(z.enum(CSV_FIELDS), columnRef),
    /** Date layouts of birthDate, tried in order. */
    dateFormats: z.array(z.enum(DATE_FORMATS)).min(1).default(["YYYY-MM-DD"]),
    /** Day "00" (and month "00") mean unknown, giving a partial date (common in registry exports). */
    zeroMeansUnknown: z.boolean().default(true),
    /** Source sex value (case-insensitive) → canonical sex; added to the defaults (F/M/O/U and the words). */
    sexValues: z.record(z.string(), z.enum(CANONICAL_SEXES)).default({}),
    /** How a `fullName` column is written. */
    fullNameOrder: z.enum(["family_comma_given", "given_family"]).default("family_comma_given"),
    /** Identifier system (URI or OID) of the MRN column; the facility's MRN namespace. */
    mrnSystem: z.string().default(""),
    /** Identifier system of the SSN column. */
    ssnSystem: z.string().default("http://hl7.org/fhir/sid/us-ssn"),
    /** Canonical fields that must be present in a row; a row without one is a bad row. */
    required: z.array(z.enum(CSV_FIELDS)).default([]),
  })
  .refine((m) => m.header || (m.columnNames !== undefined && m.columnNames.length > 0), {
    message: "columnNames is required when header is false",
    path: ["columnNames"],
  });

/** A parsed, defaulted mapping. */
export type CsvMapping = z.output<typeof CsvMappingSchema>;
/** A mapping as written in a profile (defaults may be left out). */
export type CsvMappingInput = z.input<typeof CsvMappingSchema>;

/** The hix canonical patient export: `record_id,facility_id,mrn,given_name,…,ssn`, ISO dates. */
export const CANONICAL_CSV_COLUMNS = [
  "record_id",
  "facility_id",
  "mrn",
  "given_name",
  "middle_name",
  "family_name",
  "birth_date",
  "sex",
  "address_line",
  "city",
  "state",
  "postal_code",
  "phone",
  "ssn",
] as const;

export const CANONICAL_CSV_MAPPING: CsvMapping = CsvMappingSchema.parse({
  delimiter: ",",
  header: true,
  fields: {
    recordId: "record_id",
    facilityId: "facility_id",
    mrn: "mrn",
    given: "given_name",
    middle: "middle_name",
    family: "family_name",
    birthDate: "birth_date",
    sex: "sex",
    addressLine: "address_line",
    city: "city",
    state: "state",
    postalCode: "postal_code",
    phone: "phone",
    ssn: "ssn",
  },
  dateFormats: ["YYYY-MM-DD", "YYYY-MM", "YYYY"],
  required: ["family"],
} satisfies CsvMappingInput);
