import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fixturePath } from "@hix/testkit";
import {
  AddressUse,
  AdministrativeSex,
  AnnouncementKind,
  ConversionError,
  DatePrecision,
  NameUse,
  ObservationStatus,
  type Conversion,
} from "@hix/proto";
import { canonicalToFhir, fhirToCanonical } from "./index.js";

const read = (file: string) => readFileSync(fixturePath(file), "utf8");
const json = (file: string) => JSON.parse(read(file).replace(/^\uFEFF/, "")) as Record<string, unknown>;

function announced(c: Conversion) {
  const body = c.bodies[0];
  if (body?.$case !== "patientAnnouncement") throw new Error("expected an announcement");
  return body.value;
}

function transfer(c: Conversion) {
  const body = c.bodies.find((b) => b.$case === "recordTransfer");
  if (body?.$case !== "recordTransfer") throw new Error("expected a record transfer");
  return { patient: body.value.patient!, record: body.value.records[0]! };
}

function thrown(fn: () => unknown): ConversionError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConversionError) return err;
    throw err;
  }
  throw new Error("expected a ConversionError");
}

const SYNTHEA_BOB = "fhir-r4-synthea/Bob965_Keeling57_3f6fd0bb-6cd3-eb3f-4401-cd38ace25f2b.json";

describe("Patient", () => {
  it("keeps the spec patient's official, usual and maiden names with use and period", () => {
    const { patient, kind, sourceEvent } = announced(
      fhirToCanonical(read("fhir-r4-ms-fhir-server/Patient.json")),
    );
    expect(kind).toBe(AnnouncementKind.REGISTERED);
    expect(sourceEvent).toBe("fhir:Patient.create");
    expect(patient?.names.map((n) => [n.use, n.family, n.given.join(" ")])).toEqual([
      [NameUse.OFFICIAL, "Chalmers", "Peter James"],
      [NameUse.USUAL, "", "Jim"],
      [NameUse.MAIDEN, "Windsor", "Peter James"],
    ]);
    expect(patient?.names[2]?.period?.end?.toISOString()).toBe("2002-01-01T00:00:00.000Z");
    expect(patient?.birthDate).toEqual({ year: 1974, month: 12, day: 25, precision: DatePrecision.DAY });
    expect(patient?.sex).toBe(AdministrativeSex.MALE);
    expect(patient?.deceased).toBe(false);
    expect(patient?.localPatientId).toBe("example");
  });

  it("carries US Core's surname change: old Shaw until 2020-07-22, usual Baxter from then", () => {
    const { patient } = announced(fhirToCanonical(read("fhir-r4-us-core/patient-example.json")));
    const [old, usual] = patient!.names;
    expect([old?.use, old?.family, old?.period?.end?.toISOString().slice(0, 10)]).toEqual([
      NameUse.OLD,
      "Shaw",
      "2020-07-22",
    ]);
    expect([
      usual?.use,
      usual?.family,
      usual?.suffix,
      usual?.period?.start?.toISOString().slice(0, 10),
    ]).toEqual([NameUse.USUAL, "Baxter", ["PharmD"], "2020-07-22"]);
  });

  it("reads Synthea's identifiers with their v2-0203 type codes, mother's maiden name and birthplace", () => {
    const c = fhirToCanonical(read(SYNTHEA_BOB), {
      facilityId: "fac-synthea",
      mrnSystem: "http://hospital.smarthealthit.org",
    });
    const { patient, record } = transfer(c);
    expect(patient.identifiers.map((i) => [i.typeCode, i.system])).toEqual([
      ["", "https://github.com/synthetichealth/synthea"],
      ["MR", "http://hospital.smarthealthit.org"],
      ["SS", "http://hl7.org/fhir/sid/us-ssn"],
      ["DL", "urn:oid:2.16.840.1.113883.4.3.25"],
      ["PPN", "http://standardhealthrecord.org/fhir/StructureDefinition/passportNumber"],
    ]);
    expect(patient.identifiers.find((i) => i.typeCode === "SS")?.value).toMatch(/^999-\d\d-\d{4}$/);
    expect(patient.sourceFacility).toBe("fac-synthea");
    expect(record.sourceFacility).toBe("fac-synthea");
    expect(patient.localPatientId).toBe("3f6fd0bb-6cd3-eb3f-4401-cd38ace25f2b");
    expect(patient.multipleBirth).toBe(false);
    expect(patient.mothersMaidenName).not.toBe("");
    expect(patient.addresses.filter((a) => a.use === AddressUse.BIRTH)).toHaveLength(1);
    expect(patient.birthDate).toEqual({ year: 1991, month: 7, day: 8, precision: DatePrecision.DAY });
  });

  it("keeps Ramona's maiden name next to her official accented surname", () => {
    const { patient } = transfer(
      fhirToCanonical(read("fhir-r4-synthea/Ramona980_Godinez202_6eb9f136-121e-2f36-9115-d450c210dced.json")),
    );
    expect(patient.names.map((n) => [n.use, n.family])).toEqual([
      [NameUse.OFFICIAL, "Godínez202"],
      [NameUse.MAIDEN, "Gonzales379"],
    ]);
  });

  it.each([
    ["1987", { year: 1987, month: 0, day: 0, precision: DatePrecision.YEAR }],
    ["1987-02", { year: 1987, month: 2, day: 0, precision: DatePrecision.MONTH }],
    ["2024-02-29", { year: 2024, month: 2, day: 29, precision: DatePrecision.DAY }],
  ])("birthDate %s keeps its precision, there and back", (birthDate, expected) => {
    const c = fhirToCanonical({ resourceType: "Patient", id: "p1", birthDate });
    expect(announced(c).patient?.birthDate).toEqual(expected);
    const back = canonicalToFhir(c.bodies).entry?.[0]?.resource;
    expect(back).toMatchObject({ resourceType: "Patient", birthDate });
  });

  it.each(["2023-02-30", "2023-13-01", "2023-00", "1987-2-3", "19870203"])(
    "refuses the impossible or malformed birthDate %s at its JSON path, without echoing it",
    (birthDate) => {
      const bundle = {
        resourceType: "Bundle",
        type: "collection",
        entry: [
          { resource: { resourceType: "Organization" } },
          {},
          { resource: { resourceType: "Patient", birthDate } },
        ],
      };
      const err = thrown(() => fhirToCanonical(JSON.stringify(bundle)));
      expect(err.code).toBe("fhir.invalid_date");
      expect(err.location).toBe("Bundle.entry[2].resource.birthDate");
      expect(err.message).not.toContain(birthDate);
    },
  );

  it("maps multipleBirthInteger to a multiple birth with its order, and deceasedDateTime to a partial date", () => {
    const c = fhirToCanonical({
      resourceType: "Patient",
      multipleBirthInteger: 2,
      deceasedDateTime: "2015-03",
    });
    const p = announced(c).patient!;
    expect([p.multipleBirth, p.birthOrder, p.deceased]).toEqual([true, 2, true]);
    expect(p.deceasedDate).toEqual({ year: 2015, month: 3, day: 0, precision: DatePrecision.MONTH });
  });

  it("announces a transaction PUT as an update", () => {
    const c = fhirToCanonical(read("fhir-r4-ms-fhir-server/Bundle-Transaction.json"));
    const kinds = c.bodies.map((b) => (b.$case === "patientAnnouncement" ? b.value.kind : undefined));
    expect(kinds).toContain(AnnouncementKind.UPDATED);
    expect(kinds).toContain(AnnouncementKind.REGISTERED);
    // DELETE and GET entries carry no resource: reported, not mapped.
    expect(c.warnings.filter((w) => w.code === "fhir.entry_without_resource").length).toBeGreaterThan(0);
  });
});

describe("references inside the Bundle", () => {
  it("resolves urn:uuid subjects and encounters and conditional Practitioner?identifier= references (Synthea)", () => {
    const { record } = transfer(fhirToCanonical(read(SYNTHEA_BOB)));
    const encounterIds = new Set(record.encounters.map((e) => e.id));
    const linked = record.observations.filter((o) => encounterIds.has(o.encounterId));
    expect(linked.length).toBe(record.observations.length);
    const participant = record.encounters[0]?.participants[0];
    expect(participant?.identifiers[0]?.system).toBe("http://hl7.org/fhir/sid/us-npi");
    expect(participant?.identifiers[0]?.value).toMatch(/^\d{10}$/);
    expect(participant?.role?.code).toBe("PPRF");
  });

  it("groups a conditional create's dependants under its patient", () => {
    const c = fhirToCanonical(
      read("fhir-r4-ms-fhir-server/Bundle-TransactionWithConditionalCreateAndReference.json"),
    );
    // The only dependant is an ImagingStudy (not mapped), so the patient is announced.
    expect(announced(c).patient?.identifiers[0]?.value).toBe("11788759296811");
    expect(c.warnings.map((w) => w.code)).toContain("fhir.unsupported_resource");
  });

  it("sends Cerner's clinical resources under the referenced Patient/1 when the Bundle has no Patient", () => {
    const c = fhirToCanonical(
      read("ccda-to-fhir-vendor-comparison/fhir-outputs/Cerner_Myra_Jones_v2_fhir_bundle.json"),
    );
    expect(c.bodies).toHaveLength(1);
    const { patient, record } = transfer(c);
    expect(patient.localPatientId).toBe("1");
    expect(patient.names).toEqual([]);
    expect(record.localPatientId).toBe("1");
    expect(c.warnings.filter((w) => w.code === "fhir.patient_not_in_input")).toHaveLength(1);
    expect(c.warnings.map((w) => w.code)).toContain("fhir.unsupported_resource"); // OperationOutcome, Provenance
  });

  it("opens the document Bundle nested in Google's transaction and maps its patient once", () => {
    const text = read(
      "ccda-to-fhir-vendor-comparison/fhir-outputs/Google_Myra_Jones.fhir.output.json",
    ).trimEnd();
    const repaired = text.slice(0, -1); // drop the one '}' too many (SOURCE.md)
    const c = fhirToCanonical(repaired);
    const transfers = c.bodies.filter((b) => b.$case === "recordTransfer");
    expect(transfers).toHaveLength(1);
    const { patient, record } = transfer(c);
    expect(patient.names.some((n) => n.family === "Jones")).toBe(true);
    expect(patient.birthDate).toEqual({ year: 1947, month: 5, day: 1, precision: DatePrecision.DAY });
    expect(record.conditions.length).toBeGreaterThan(0);
  });
});

describe("clinical resources", () => {
  it("reads a lab Observation's quantity, reference range and interpretation", () => {
    const { record } = transfer(
      fhirToCanonical(read("fhir-r4-ms-fhir-server/Observation-For-Patient-f001.json")),
    );
    const o = record.observations[0]!;
    expect(o.status).toBe(ObservationStatus.FINAL);
    expect(o.value).toEqual({
      $case: "valueQuantity",
      value: {
        value: 6.3,
        unit: "mmol/l",
        system: "http://unitsofmeasure.org",
        code: "mmol/L",
        comparator: "",
      },
    });
    expect([o.referenceRanges[0]?.low?.value, o.referenceRanges[0]?.high?.value]).toEqual([3.1, 6.2]);
    expect(o.interpretations.map((i) => i.code)).toEqual(["H"]);
  });

  it("splits blood pressure components into systolic and diastolic results", () => {
    const { record } = transfer(fhirToCanonical(read("fhir-r4-us-core/blood-pressure.json")));
    const [panel, systolic, diastolic] = record.observations;
    expect(panel?.value).toBeUndefined();
    expect([systolic?.id, systolic?.code?.code, systolic?.value?.$case]).toEqual([
      `${panel?.id}.1`,
      "8480-6",
      "valueQuantity",
    ]);
    expect(diastolic?.code?.code).toBe("8462-4");
  });

  it("maps valueString, valueBoolean, valueInteger and valueCodeableConcept, and reports valueRange", () => {
    const obs = (value: Record<string, unknown>) =>
      fhirToCanonical({
        resourceType: "Observation",
        status: "final",
        code: { text: "x" },
        subject: { reference: "Patient/p" },
        ...value,
      });
    const value = (c: Conversion) => transfer(c).record.observations[0]?.value;
    expect(value(obs({ valueString: "neg" }))).toEqual({ $case: "valueString", value: "neg" });
    expect(value(obs({ valueBoolean: true }))).toEqual({ $case: "valueBoolean", value: true });
    expect(value(obs({ valueInteger: 7 }))).toEqual({ $case: "valueInteger", value: 7n });
    expect(
      value(
        obs({ valueCodeableConcept: { coding: [{ system: "http://snomed.info/sct", code: "260385009" }] } }),
      ),
    ).toMatchObject({
      $case: "valueCode",
      value: { code: "260385009" },
    });
    const range = obs({ valueRange: { low: { value: 1 } } });
    expect(value(range)).toBeUndefined();
    expect(range.warnings.map((w) => [w.code, w.location])).toContainEqual([
      "fhir.value_not_mapped",
      "Observation.valueRange",
    ]);
  });

  it("decodes inline base64 attachment data into document bytes", () => {
    const { record } = transfer(
      fhirToCanonical(read("fhir-r4-ms-fhir-server/DocumentReference-example-with-base64.json")),
    );
    const d = record.documents[0]!;
    expect(d.content?.$case).toBe("inline");
    expect(d.content?.$case === "inline" && Buffer.from(d.content.value).toString("utf8")).toBe(
      "This is a test",
    );
    expect(d.mediaType).toBe("application/hl7-v3+xml");
  });

  it("keeps an attachment url as a reference with its size; the R4 SHA-1 hash is reported, not carried", () => {
    const c = fhirToCanonical(read("fhir-r4-ms-fhir-server/documentreference-example.json"));
    const d = transfer(c).record.documents[0]!;
    expect(d.id).toBe("urn:oid:1.3.6.1.4.1.21367.2005.3.7"); // masterIdentifier
    expect(d.content).toEqual({
      $case: "attachment",
      value: {
        bucket: "",
        key: "http://example.org/xds/mhd/Binary/07a6483f-732b-461e-86b6-edb665c45510",
        sha256: Buffer.alloc(0),
        size: 3654n,
        mediaType: "application/hl7-v3+xml",
      },
    });
    expect(c.warnings.map((w) => w.code)).toContain("fhir.hash_not_mapped");
  });

  it("reads a simple MedicationRequest as a medication statement", () => {
    const { record } = transfer(fhirToCanonical(read("fhir-r4-ms-fhir-server/SmartPatientA.json")));
    expect(record.medications).toHaveLength(1);
    expect(record.medications[0]?.medication).toEqual({
      system: "http://snomed.info/sct",
      code: "16590-619-30",
      display: "Percocet tablet",
      version: "",
    });
  });

  it("skips unknown resource types with one warning per type", () => {
    const c = fhirToCanonical(
      read("fhir-r4-synthea/Bob965_Keeling57_3f6fd0bb-6cd3-eb3f-4401-cd38ace25f2b.json"),
    );
    const skipped = c.warnings.filter((w) => w.code === "fhir.unsupported_resource").map((w) => w.message);
    expect(skipped).toEqual(
      expect.arrayContaining([
        "32 DiagnosticReport resource(s) skipped: type not mapped",
        "32 Claim resource(s) skipped: type not mapped",
      ]),
    );
  });
});

describe("bad input", () => {
  it("locates invalid JSON by line and column", () => {
    const err = thrown(() => fhirToCanonical('{\n  "resourceType": "Patient",\n  "name": [ SECRET ]\n}'));
    expect([err.code, err.location]).toEqual(["fhir.invalid_json", "line 3 column 13"]);
    expect(err.message).not.toContain("SECRET");
  });

  it("refuses JSON that is not a resource, naming the path", () => {
    expect(thrown(() => fhirToCanonical('{"name": "x"}')).location).toBe("$");
    const nested = {
      resourceType: "Bundle",
      entry: [{ resource: { resourceType: "Patient" } }, { resource: { id: "x" } }],
    };
    const err = thrown(() => fhirToCanonical(nested));
    expect([err.code, err.location]).toEqual(["fhir.not_a_resource", "Bundle.entry[1].resource"]);
  });

  it("reports a malformed structure at the resource instead of throwing a TypeError", () => {
    const err = thrown(() => fhirToCanonical({ resourceType: "Patient", name: [{ period: { start: 12 } }] }));
    expect([err.code, err.location]).toEqual(["fhir.invalid_date", "Patient.name[0].period.start"]);
  });

  it("reads a BOM-prefixed file", () => {
    expect(json("fhir-r4-ms-fhir-server/Patient.json")["resourceType"]).toBe("Patient");
    expect(read("fhir-r4-ms-fhir-server/Patient.json").charCodeAt(0)).toBe(0xfeff);
    expect(
      announced(fhirToCanonical(read("fhir-r4-ms-fhir-server/Patient.json"))).patient?.localPatientId,
    ).toBe("example");
  });
});

describe("JSON syntax errors", () => {
  it.each([
    ['{"a": tru}', 6],
    ['{"a": 1,}', 8],
    ["[1 2]", 3],
    ['{"a": "x\\q"}', 9],
    ['{"a": 01}', 7],
    ['{"a": 1}}', 8],
    ['{"a": [1, 2', 11],
  ])("%s fails at character offset %i", (text, offset) => {
    const err = thrown(() => fhirToCanonical(text));
    expect(err.location).toBe(`line 1 column ${offset + 1}`);
  });
});
