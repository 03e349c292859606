import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fixturePath } from "@hix/testkit";
import { ConversionError, type ClinicalRecord, type EnvelopeBody } from "@hix/proto";
import { canonicalToFhir, fhirToCanonical } from "./index.js";

// Every FHIR JSON sample in ../shared/data (see each folder's SOURCE.md).
const DIRS = [
  "fhir-r4-ms-fhir-server",
  "fhir-r4-us-core",
  "fhir-r4-synthea",
  "ccda-to-fhir-vendor-comparison/fhir-outputs",
  "ccda-to-fhir-vendor-comparison/fhir-to-cda-oraclecerner",
];
const FILES = DIRS.flatMap((dir) =>
  readdirSync(fixturePath(dir))
    .filter((f) => f.endsWith(".json"))
    .map((f) => join(dir, f)),
);
const read = (file: string) => readFileSync(fixturePath(file), "utf8");
const INVALID_JSON = "ccda-to-fhir-vendor-comparison/fhir-outputs/Google_Myra_Jones.fhir.output.json";

const RECORD_LISTS = [
  "encounters",
  "observations",
  "conditions",
  "allergies",
  "medications",
  "procedures",
  "immunizations",
  "documents",
] as const;

/** Per body: "announcement" or the non-empty ClinicalRecord list sizes, e.g. "transfer encounters=1 observations=2". */
function shape(bodies: EnvelopeBody[]): string[] {
  return bodies.map((b) => {
    if (b.$case === "patientAnnouncement") return "announcement";
    if (b.$case !== "recordTransfer") return b.$case;
    const record = b.value.records[0] as ClinicalRecord;
    const counts = RECORD_LISTS.filter((k) => record[k].length > 0).map((k) => `${k}=${record[k].length}`);
    return ["transfer", ...counts].join(" ");
  });
}

describe("every shared FHIR sample", () => {
  it.each(FILES.filter((f) => f !== INVALID_JSON))(
    "%s converts, and canonical → FHIR → canonical is stable",
    (file) => {
      const first = fhirToCanonical(read(file));
      const bundle = canonicalToFhir(first.bodies);
      expect(bundle.resourceType).toBe("Bundle");
      expect(bundle.type).toBe("collection");
      const second = fhirToCanonical(bundle);
      // A collection Bundle has no transaction verbs or meta: whether an announcement was a
      // create or an update, and when, is not part of the round trip.
      expect(second.bodies.map(withoutEvent)).toEqual(first.bodies.map(withoutEvent));
    },
  );

  it("refuses the Google output (one '}' too many) with the line and column, not a stack trace", () => {
    const text = read(INVALID_JSON);
    const err = catchError(() => fhirToCanonical(text));
    expect(err).toBeInstanceOf(ConversionError);
    expect(err.code).toBe("fhir.invalid_json");
    const lines = text.trimEnd().split("\n");
    expect(err.location).toBe(`line ${lines.length} column ${lines.at(-1)!.length}`);
  });
});

function withoutEvent(body: EnvelopeBody): unknown {
  if (body.$case !== "patientAnnouncement") return body;
  const { patient, retiredIds } = body.value;
  return { $case: body.$case, patient, retiredIds };
}

function catchError(fn: () => unknown): ConversionError {
  try {
    fn();
  } catch (err) {
    return err as ConversionError;
  }
  throw new Error("expected an error");
}

describe("mapped resources per Bundle", () => {
  it.each([
    [
      "fhir-r4-ms-fhir-server/Bundle-Transaction.json",
      ["announcement", "announcement", "announcement", "announcement", "announcement"],
    ],
    [
      "fhir-r4-ms-fhir-server/SmartPatientA.json",
      ["transfer encounters=1 observations=2 conditions=1 medications=1 immunizations=1"],
    ],
    ["fhir-r4-us-core/bundle-docref-example2.json", ["transfer documents=3"]],
    ["fhir-r4-us-core/blood-pressure.json", ["transfer observations=3"]],
    [
      "fhir-r4-synthea/Bob965_Keeling57_3f6fd0bb-6cd3-eb3f-4401-cd38ace25f2b.json",
      ["transfer encounters=32 observations=30 immunizations=46 documents=32"],
    ],
    [
      "ccda-to-fhir-vendor-comparison/fhir-outputs/Redox_Myra_Jones_v2_fhir_bundle.json",
      [
        "transfer encounters=2 observations=4 conditions=3 allergies=1 medications=1 procedures=1 immunizations=1 documents=1",
      ],
    ],
    [
      "ccda-to-fhir-vendor-comparison/fhir-outputs/DiameterHealth_Myra_Jones_v2_fhir_bundle.json",
      [
        "transfer encounters=1 observations=3 conditions=3 allergies=1 medications=1 procedures=1 immunizations=1 documents=3",
      ],
    ],
    [
      "ccda-to-fhir-vendor-comparison/fhir-outputs/MDIX_CCDA_output.json",
      ["transfer encounters=2 observations=3 conditions=3 allergies=1 procedures=1 immunizations=1"],
    ],
    ["fhir-r4-synthea/hospitalInformation1633536936158.json", []],
  ])("%s", (file, expected) => {
    expect(shape(fhirToCanonical(read(file)).bodies)).toEqual(expected);
  });
});
