import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fixturePath } from "@hix/testkit";
import {
  AdministrativeSex,
  ContactPointSystem,
  ConversionError,
  DatePrecision,
  type EnvelopeBody,
  type Patient,
} from "@hix/proto";
import {
  CANONICAL_CSV_COLUMNS,
  CANONICAL_CSV_MAPPING,
  CsvMappingSchema,
  canonicalToCsv,
  csvToCanonical,
  parseDate,
} from "./index.js";

const patients = (bodies: EnvelopeBody[]): Patient[] =>
  bodies.map((b) => {
    if (b.$case !== "patientAnnouncement") throw new Error(b.$case);
    return b.value.patient!;
  });

function refusal(run: () => unknown): ConversionError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ConversionError);
    return err as ConversionError;
  }
  throw new Error("expected a ConversionError");
}

const HEADER = CANONICAL_CSV_COLUMNS.join(",");

describe("csvToCanonical with the hix canonical header", () => {
  const text = [
    HEADER,
    "r1,clinic-a,MRN-001,Ada,Maria,Lovelace,1815-12-10,F,12 St James's Square,London,LDN,SW1Y 4JH,+44 20 7946 0000,111-22-3333",
    'r2,,MRN-002,"Smith, jr",,"O""Brien",1975-05,m,"1 Main St, Apt 2",Springfield,IL,62701,,',
    "r3,,,Tom,,Thumb,1950,U,,,,,,",
  ].join("\n");

  it("maps every column of a row onto the patient", () => {
    const [ada] = patients(csvToCanonical(text, CANONICAL_CSV_MAPPING, { facilityId: "fallback" }).bodies);
    expect(ada).toMatchObject({
      sourceFacility: "clinic-a",
      localPatientId: "MRN-001",
      names: [{ given: ["Ada", "Maria"], family: "Lovelace" }],
      birthDate: { year: 1815, month: 12, day: 10, precision: DatePrecision.DAY },
      sex: AdministrativeSex.FEMALE,
      addresses: [{ lines: ["12 St James's Square"], city: "London", state: "LDN", postalCode: "SW1Y 4JH" }],
      telecom: [{ system: ContactPointSystem.PHONE, value: "+44 20 7946 0000" }],
    });
    expect(ada?.identifiers).toEqual([
      { value: "MRN-001", system: "", assigner: "clinic-a", typeCode: "MR" },
      { value: "111-22-3333", system: "http://hl7.org/fhir/sid/us-ssn", assigner: "", typeCode: "SS" },
    ]);
  });

  it("reads quoted fields with delimiters and doubled quotes, keeps partial dates partial, falls back to the option facility", () => {
    const [, smith, tom] = patients(
      csvToCanonical(text, CANONICAL_CSV_MAPPING, { facilityId: "fallback" }).bodies,
    );
    expect(smith?.names[0]).toMatchObject({ given: ["Smith, jr"], family: 'O"Brien' });
    expect(smith?.addresses[0]?.lines).toEqual(["1 Main St, Apt 2"]);
    expect(smith?.sourceFacility).toBe("fallback");
    expect(smith?.sex).toBe(AdministrativeSex.MALE);
    expect(smith?.birthDate).toEqual({ year: 1975, month: 5, day: 0, precision: DatePrecision.MONTH });
    expect(tom?.birthDate).toEqual({ year: 1950, month: 0, day: 0, precision: DatePrecision.YEAR });
    expect(tom?.localPatientId).toBe("r3");
  });

  it("reads a BOM and CRLF line ends the same as plain LF", () => {
    const crlf = "\uFEFF" + text.replace(/\n/g, "\r\n") + "\r\n";
    expect(csvToCanonical(crlf, CANONICAL_CSV_MAPPING).bodies).toEqual(
      csvToCanonical(text, CANONICAL_CSV_MAPPING).bodies,
    );
  });

  it("round-trips through canonicalToCsv", () => {
    const first = csvToCanonical(text, CANONICAL_CSV_MAPPING, { facilityId: "fallback" });
    const written = canonicalToCsv(first.bodies, CANONICAL_CSV_MAPPING);
    expect(written.split("\r\n")[0]).toBe(HEADER);
    expect(written).toContain('"1 Main St, Apt 2"');
    expect(written).toContain('"O""Brien"');
    expect(csvToCanonical(written, CANONICAL_CSV_MAPPING).bodies).toEqual(first.bodies);
  });

  it.each([
    [
      "an impossible date (30 February)",
      "r9,,M9,Eve,,Adams,1990-02-30,F,,,,,,",
      "csv.impossible_date",
      "line 2, column birth_date",
    ],
    ["month 13", "r9,,M9,Eve,,Adams,1990-13-01,F,,,,,,", "csv.impossible_date", "line 2, column birth_date"],
    [
      "a date in no format",
      "r9,,M9,Eve,,Adams,10 Feb 1990,F,,,,,,",
      "csv.bad_date",
      "line 2, column birth_date",
    ],
    [
      "an empty required family name",
      "r9,,M9,Eve,,,1990-02-01,F,,,,,,",
      "csv.required_missing",
      "line 2, column family_name",
    ],
    ["an unknown sex value", "r9,,M9,Eve,,Adams,1990-02-01,Q,,,,,,", "csv.unknown_sex", "line 2, column sex"],
    ["a wrong column count", "r9,,M9,Eve,,Adams,1990-02-01", "csv.column_count", "line 2"],
  ])("refuses %s at its line and column without echoing the value", (_what, row, code, location) => {
    const err = refusal(() => csvToCanonical(`${HEADER}\n${row}\n`, CANONICAL_CSV_MAPPING));
    expect(err.code).toBe(code);
    expect(err.location).toBe(location);
    expect(err.message).not.toMatch(/Eve|Adams|1990|Feb|Q,/);
  });

  it("skips bad rows with warnings at their line when asked", () => {
    const rows = [
      HEADER,
      "a,,,Ann,,Ames,1990-01-01,F,,,,,,",
      "b,,,Bob,,,1990-01-01,M,,,,,,",
      "c,,,Cy,,Cole,1990-02-30,M,,,,,,",
      "d,,,Di,,Dee,1991-03-04,F,,,,,,",
    ];
    const c = csvToCanonical(rows.join("\n"), CANONICAL_CSV_MAPPING, { onBadRow: "skip" });
    expect(patients(c.bodies).map((p) => p.localPatientId)).toEqual(["a", "d"]);
    expect(c.warnings.map((w) => [w.code, w.location])).toEqual([
      ["csv.required_missing", "line 3"],
      ["csv.impossible_date", "line 4"],
    ]);
    expect(c.warnings[0]?.message).toContain("family_name");
  });

  it("refuses an unterminated quote and a mapped column missing from the header", () => {
    expect(refusal(() => csvToCanonical(`${HEADER}\nr1,"open,x\n`, CANONICAL_CSV_MAPPING)).code).toBe(
      "csv.malformed",
    );
    const err = refusal(() => csvToCanonical("record_id,given_name\nr1,Ann\n", CANONICAL_CSV_MAPPING));
    expect(err.code).toBe("csv.missing_column");
  });
});

describe("csvToCanonical with facility quirks", () => {
  it("reads headerless, semicolon-separated rows with 'Family, Given' names, US dates and a sex value map", () => {
    const mapping = CsvMappingSchema.parse({
      delimiter: ";",
      header: false,
      columnNames: ["id", "name", "dob", "gender"],
      fields: { mrn: "id", fullName: "name", birthDate: "dob", sex: "gender" },
      dateFormats: ["MM/DD/YYYY", "YYYY"],
      sexValues: { "1": "male", "2": "female" },
      mrnSystem: "urn:oid:1.2.3.4",
    });
    const [a, b] = patients(csvToCanonical('77;"Doe, Jane Q";07/04/1976;2\n78;Roe;1960;1\n', mapping).bodies);
    expect(a).toMatchObject({
      localPatientId: "77",
      names: [{ family: "Doe", given: ["Jane Q"] }],
      birthDate: { year: 1976, month: 7, day: 4, precision: DatePrecision.DAY },
      sex: AdministrativeSex.FEMALE,
    });
    expect(a?.identifiers[0]).toMatchObject({ system: "urn:oid:1.2.3.4", value: "77", typeCode: "MR" });
    expect(b?.names[0]?.family).toBe("Roe");
    expect(b?.birthDate?.precision).toBe(DatePrecision.YEAR);
    expect(b?.sex).toBe(AdministrativeSex.MALE);
    const back = canonicalToCsv(csvToCanonical('77;"Doe, Jane Q";07/04/1976;2\n', mapping).bodies, mapping);
    expect(back).toBe("77;Doe, Jane Q;07/04/1976;2\r\n");
  });

  it("requires columnNames when there is no header row", () => {
    expect(CsvMappingSchema.safeParse({ header: false, fields: { mrn: "id" } }).success).toBe(false);
  });

  it.each([
    ["19750500", { year: 1975, month: 5, day: 0, precision: DatePrecision.MONTH }],
    ["19750000", { year: 1975, month: 0, day: 0, precision: DatePrecision.YEAR }],
    ["19750230", "impossible"],
    ["19751301", "impossible"],
    ["20000229", { year: 2000, month: 2, day: 29, precision: DatePrecision.DAY }],
    ["19000229", "impossible"],
    ["1975-05-01", "format"],
  ])("parseDate YYYYMMDD %s", (value, expected) => {
    expect(parseDate(value, ["YYYYMMDD"], true)).toEqual(expected);
  });
});

describe("csvToCanonical over the shared record-linkage exports", () => {
  const FEBRL = CsvMappingSchema.parse({
    fields: {
      recordId: "rec_id",
      given: "given_name",
      family: "surname",
      addressLine: ["street_number", "address_1"],
      addressLine2: "address_2",
      city: "suburb",
      postalCode: "postcode",
      state: "state",
      birthDate: "date_of_birth",
      ssn: "soc_sec_id",
    },
    dateFormats: ["YYYYMMDD"],
    ssnSystem: "urn:febrl:soc_sec_id",
  });
  const febrl = (): string => readFileSync(fixturePath("febrl", "dataset1.csv"), "utf8");

  it("FEBRL dataset1 (comma + space): 1000 rows, 3 impossible birth dates counted as bad rows with their lines", () => {
    const c = csvToCanonical(febrl(), FEBRL, { facilityId: "febrl", onBadRow: "skip" });
    expect(c.bodies).toHaveLength(997);
    expect(c.warnings.map((w) => [w.code, w.location])).toEqual([
      ["csv.impossible_date", "line 146"],
      ["csv.impossible_date", "line 149"],
      ["csv.impossible_date", "line 588"],
    ]);
    const first = patients(c.bodies)[0]!;
    expect(first).toMatchObject({
      sourceFacility: "febrl",
      localPatientId: "rec-223-org",
      names: [{ given: [], family: "waller" }],
      birthDate: { year: 1908, month: 12, day: 9, precision: DatePrecision.DAY },
      addresses: [
        { lines: ["6 tullaroop street", "willaroo"], city: "st james", postalCode: "4011", state: "wa" },
      ],
      identifiers: [{ value: "6988048", system: "urn:febrl:soc_sec_id", typeCode: "SS" }],
    });
    // Line 146 of the file really is the row with the refused date.
    const line146 = febrl().split("\n")[145]!;
    expect(line146.split(", ")[9]).toMatch(/^\d{8}$/);
    expect(parseDate(line146.split(", ")[9]!, ["YYYYMMDD"], true)).toBe("impossible");
  });

  it("FEBRL dataset1 with onBadRow fail stops at the first bad row, naming line and column", () => {
    const err = refusal(() => csvToCanonical(febrl(), FEBRL));
    expect(err.location).toBe("line 146, column date_of_birth");
  });

  it("splink fake_1000: 1000 patients with ISO dates, e-mail and city", () => {
    const mapping = CsvMappingSchema.parse({
      fields: {
        recordId: "unique_id",
        given: "first_name",
        family: "surname",
        birthDate: "dob",
        city: "city",
        email: "email",
      },
    });
    const c = csvToCanonical(readFileSync(fixturePath("splink-fake1000", "fake_1000.csv"), "utf8"), mapping);
    expect(c.warnings).toEqual([]);
    const ps = patients(c.bodies);
    expect(ps).toHaveLength(1000);
    expect(ps[0]).toMatchObject({
      localPatientId: "0",
      names: [{ given: ["Robert"], family: "Alan" }],
      birthDate: { year: 1971, month: 6, day: 24, precision: DatePrecision.DAY },
      telecom: [{ system: ContactPointSystem.EMAIL, value: "robert255@smith.net" }],
    });
    expect(ps[2]?.addresses[0]?.city).toBe("London");
    expect(ps.filter((p) => p.names.length === 0 || p.names[0]?.family === "")).toHaveLength(181);
  });
});
