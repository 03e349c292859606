import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fixturePath } from "@hix/testkit";
import {
  AdministrativeSex,
  type ClinicalRecord,
  ClinicalStatus,
  ConversionError,
  DatePrecision,
  MedicationStatus,
  NameUse,
  ObservationStatus,
  type Patient,
  ReactionSeverity,
  ReferralUrgency,
  type ReferralPacket,
  type RecordTransfer,
} from "@hix/proto";
import { ccdaToCanonical } from "./index.js";

const read = (...p: string[]): Buffer => readFileSync(fixturePath(...p));

interface Expected {
  file: string[];
  kind: "recordTransfer" | "referralPacket";
  name: [string, string];
  birth: string;
  sex: AdministrativeSex;
  localId: string;
  docType: string;
  /** problems, medications, allergies, results */
  counts: [number, number, number, number];
}

const F = AdministrativeSex.FEMALE;
const M = AdministrativeSex.MALE;

// Every C-CDA document in the shared sample folders that has a header; the two fragments are below.
const DOCUMENTS: Expected[] = [
  {
    file: ["ccda-hl7-examples", "CCD-1.xml"],
    kind: "recordTransfer",
    name: ["Eve", "Betterhalf"],
    birth: "1975-05-01",
    sex: F,
    localId: "",
    docType: "34133-9",
    counts: [4, 2, 2, 6],
  },
  {
    file: ["ccda-hl7-examples", "CCD-2.xml"],
    kind: "recordTransfer",
    name: ["Isabella", "Jones"],
    birth: "1950-12-19",
    sex: F,
    localId: "98765432",
    docType: "34133-9",
    counts: [0, 0, 1, 1],
  },
  {
    file: ["ccda-hl7-examples", "CCD_Parent_Document_Replace_C-CDAR2.1.xml"],
    kind: "recordTransfer",
    name: ["Richard", "Maur"],
    birth: "1980-08-01",
    sex: M,
    localId: "",
    docType: "34133-9",
    counts: [1, 1, 1, 0],
  },
  {
    file: ["ccda-hl7-examples", "CDA_Embedded_Text_Plain_Surgical_Consult.xml"],
    kind: "recordTransfer",
    name: ["Juan", "Damore"],
    birth: "1953-03-02",
    sex: M,
    localId: "",
    docType: "34847-4",
    counts: [0, 0, 0, 0],
  },
  {
    file: ["ccda-hl7-examples", "Consult_Document_Closing_Referral_C-CDAR2.1.xml"],
    kind: "recordTransfer",
    name: ["Eve", "Betterhalf"],
    birth: "1975-05-01",
    sex: F,
    localId: "",
    docType: "11488-4",
    counts: [0, 0, 0, 0],
  },
  {
    file: ["ccda-hl7-examples", "Consultation_Note.xml"],
    kind: "recordTransfer",
    name: ["Eve", "Betterhalf"],
    birth: "1975-05-01",
    sex: F,
    localId: "",
    docType: "11488-4",
    counts: [4, 2, 2, 6],
  },
  {
    file: ["ccda-hl7-examples", "Discharge_Summary.xml"],
    kind: "recordTransfer",
    name: ["Isabella", "Jones"],
    birth: "2005-05-01",
    sex: F,
    localId: "998991",
    docType: "18842-5",
    counts: [2, 0, 3, 0],
  },
  {
    file: ["ccda-hl7-examples", "Referral_Note.xml"],
    kind: "referralPacket",
    name: ["Eve", "Betterhalf"],
    birth: "1975-05-01",
    sex: F,
    localId: "",
    docType: "57113-1",
    counts: [4, 2, 2, 6],
  },
  {
    file: ["ccda-hl7-examples", "Transfer_Summary.xml"],
    kind: "recordTransfer",
    name: ["Eve", "Betterhalf"],
    birth: "1945-05-01",
    sex: F,
    localId: "",
    docType: "18761-7",
    counts: [4, 2, 2, 6],
  },
  {
    file: ["ccda-hl7-examples", "Unstructured_Document_reference.xml"],
    kind: "recordTransfer",
    name: ["Henry", "Levin"],
    birth: "1953-03-02",
    sex: M,
    localId: "",
    docType: "11490-0",
    counts: [0, 0, 0, 0],
  },
  {
    file: ["ccda-ms-fhir-converter", "170.314B2_Amb_CCD.ccda"],
    kind: "recordTransfer",
    name: ["Adam", "Everyman"],
    birth: "1962-10-22",
    sex: M,
    localId: "110107073916280",
    docType: "34133-9",
    counts: [2, 1, 2, 1],
  },
  {
    file: ["ccda-ms-fhir-converter", "C-CDA_R2-1_CCD.xml.ccda"],
    kind: "recordTransfer",
    name: ["Eve", "Betterhalf"],
    birth: "1975-05-01",
    sex: F,
    localId: "",
    docType: "34133-9",
    counts: [4, 2, 2, 6],
  },
  {
    file: ["ccda-ms-fhir-converter", "Patient-1.ccda"],
    kind: "recordTransfer",
    name: ["Wilma", "Crawford"],
    birth: "1943-09-03",
    sex: F,
    localId: "998991",
    docType: "34133-9",
    counts: [4, 8, 3, 11],
  },
  {
    file: ["ccda-ms-fhir-converter", "sample.ccda"],
    kind: "recordTransfer",
    name: ["Adam", "Everyman"],
    birth: "1954-11-25",
    sex: M,
    localId: "12345",
    docType: "11490-0",
    counts: [0, 0, 0, 0],
  },
  {
    file: ["ccda-to-fhir-vendor-comparison", "Myra_Jones_v2.input-ccd.xml"],
    kind: "recordTransfer",
    name: ["Myra", "Jones"],
    birth: "1947-05-01",
    sex: F,
    localId: "160920144139807",
    docType: "34133-9",
    counts: [2, 1, 1, 1],
  },
];

function isoDate(p: Patient): string {
  const d = p.birthDate;
  if (d === undefined) return "";
  return `${d.year}-${String(d.month).padStart(2, "0")}-${String(d.day).padStart(2, "0")}`;
}

/** The patient and the clinical content of either body kind. */
function unpack(xml: Buffer): {
  patient: Patient;
  record: Pick<ClinicalRecord, "conditions" | "medications" | "allergies" | "observations" | "documents">;
  kind: string;
} {
  const { bodies } = ccdaToCanonical(xml, { facilityId: "clinic-a" });
  expect(bodies).toHaveLength(1);
  const body = bodies[0]!;
  if (body.$case === "recordTransfer") {
    const t: RecordTransfer = body.value;
    expect(t.records).toHaveLength(1);
    return { patient: t.patient!, record: t.records[0]!, kind: body.$case };
  }
  if (body.$case !== "referralPacket") throw new Error(`unexpected body ${body.$case}`);
  const r: ReferralPacket = body.value;
  return {
    patient: r.patient!,
    record: {
      conditions: r.problems,
      medications: r.medications,
      allergies: r.allergies,
      observations: r.results,
      documents: r.attachments,
    },
    kind: body.$case,
  };
}

describe("ccdaToCanonical over the shared C-CDA samples", () => {
  it.each(DOCUMENTS)("$file.1 → $kind with the patient header and section entries", (e) => {
    const bytes = read(...e.file);
    const { patient, record, kind } = unpack(bytes);
    expect(kind).toBe(e.kind);
    expect(patient.sourceFacility).toBe("clinic-a");
    expect(patient.localPatientId).toBe(e.localId);
    expect(patient.names[0]?.given[0]).toBe(e.name[0]);
    expect(patient.names[0]?.family).toBe(e.name[1]);
    expect(isoDate(patient)).toBe(e.birth);
    expect(patient.birthDate?.precision).toBe(DatePrecision.DAY);
    expect(patient.sex).toBe(e.sex);
    expect([
      record.conditions.length,
      record.medications.length,
      record.allergies.length,
      record.observations.length,
    ]).toEqual(e.counts);
    // The original travels as an attachment, byte for byte.
    expect(record.documents).toHaveLength(1);
    const doc = record.documents[0]!;
    expect(doc.mediaType).toBe("application/xml");
    expect(doc.type?.system).toBe("http://loinc.org");
    expect(doc.type?.code).toBe(e.docType);
    expect(doc.title).not.toBe("");
    expect(doc.content?.$case).toBe("inline");
    expect(Buffer.compare(doc.content!.value as Buffer, bytes)).toBe(0);
  });

  it("maps CCD-1 header fields: ids, name uses, address, telecom, language, document author", () => {
    const { patient, record } = unpack(read("ccda-hl7-examples", "CCD-1.xml"));
    expect(patient.identifiers).toEqual([
      { value: "444222222", system: "http://hl7.org/fhir/sid/us-ssn", assigner: "", typeCode: "SS" },
    ]);
    expect(patient.names.map((n) => [n.use, n.family])).toEqual([
      [NameUse.OFFICIAL, "Betterhalf"],
      [NameUse.BIRTH, "Everywoman"],
    ]);
    expect(patient.addresses[0]).toMatchObject({
      lines: ["2222 Home Street"],
      city: "Beaverton",
      state: "OR",
      postalCode: "97867",
      country: "US",
    });
    expect(patient.telecom[0]).toMatchObject({ value: "+1(555)555-2003" });
    expect(patient.language?.code).toBe("en");
    expect(patient.maritalStatus?.code).toBe("M");
    const doc = record.documents[0]!;
    expect(doc.id).toBe("2.16.840.1.113883.19.5.99999.1^TT988");
    expect(doc.title).toBe("Patient Chart Summary");
    expect(doc.createdAt?.toISOString()).toBe("2013-08-15T18:30:00.000Z");
    expect(doc.authors[0]?.identifiers[0]).toMatchObject({
      system: "http://hl7.org/fhir/sid/us-npi",
      value: "5555555555",
    });
  });

  it("maps CCD-1 entries: problem codes and status, medication with route and frequency, allergy reactions, lab values", () => {
    const { record } = unpack(read("ccda-hl7-examples", "CCD-1.xml"));
    const [pneumonia, chestPain] = record.conditions;
    expect(pneumonia?.code).toMatchObject({
      system: "http://snomed.info/sct",
      code: "233604007",
      display: "Pneumonia",
    });
    expect(pneumonia?.clinicalStatus).toBe(ClinicalStatus.RESOLVED);
    expect(chestPain?.code?.code).toBe("29857009");
    expect(chestPain?.clinicalStatus).toBe(ClinicalStatus.ACTIVE);
    expect(chestPain?.onset).toEqual({ year: 2007, month: 4, day: 14, precision: DatePrecision.DAY });

    const albuterol = record.medications[0]!;
    expect(albuterol.medication).toMatchObject({
      system: "http://www.nlm.nih.gov/research/umls/rxnorm",
      code: "573621",
    });
    expect(albuterol.status).toBe(MedicationStatus.ACTIVE);
    expect(albuterol.frequency).toBe("every 6 h");
    expect(albuterol.route?.code).toBe("C38216");
    expect(albuterol.effective?.start?.toISOString()).toBe("2011-01-03T00:00:00.000Z");
    expect(albuterol.reasons.map((r) => r.code)).toEqual(["195967001"]);

    const penicillin = record.allergies[0]!;
    expect(penicillin.code).toMatchObject({
      system: "http://www.nlm.nih.gov/research/umls/rxnorm",
      code: "70618",
    });
    expect(penicillin.reactions[0]?.manifestations[0]?.code).toBe("422587007");
    expect(penicillin.reactions[0]?.severity).toBe(ReactionSeverity.MILD);
    expect(record.allergies[1]?.reactions[0]?.severity).toBe(ReactionSeverity.MODERATE);

    const hgb = record.observations[0]!;
    expect(hgb.code).toMatchObject({ system: "http://loinc.org", code: "718-7" });
    expect(hgb.status).toBe(ObservationStatus.FINAL);
    expect(hgb.value).toEqual({
      $case: "valueQuantity",
      value: { value: 13.2, unit: "g/dL", system: "http://unitsofmeasure.org", code: "g/dL", comparator: "" },
    });
    expect(hgb.referenceRanges[0]?.low?.value).toBe(12);
    expect(hgb.referenceRanges[0]?.high?.value).toBe(15.5);
    expect(hgb.interpretations[0]?.code).toBe("N");
    expect(record.observations[2]?.interpretations[0]?.code).toBe("LX");
  });

  it("makes the Referral Note a referral packet with reason, coded reason and urgency", () => {
    const { bodies } = ccdaToCanonical(read("ccda-hl7-examples", "Referral_Note.xml"), {
      facilityId: "practice-b",
    });
    const body = bodies[0]!;
    if (body.$case !== "referralPacket") throw new Error(body.$case);
    const p = body.value;
    expect(p.referringFacilityId).toBe("practice-b");
    expect(p.reason).toBe(
      "Patient referral for consultation for full care. Referral Nurse: Nurse Florence,RN",
    );
    expect(p.reasonCodes.map((c) => c.code)).toEqual(["44383000"]);
    expect(p.urgency).toBe(ReferralUrgency.ASAP);
    expect(p.referralId).not.toBe("");
    expect(p.referringPractitioner?.name?.family).not.toBe("");
    expect(p.attachments[0]?.title).toBe("Referral Note");
  });

  it("takes the local id from the facility MRN root when one is configured", () => {
    const { bodies } = ccdaToCanonical(read("ccda-hl7-examples", "CCD-2.xml"), {
      mrnRoot: "2.16.840.1.113883.4.1",
    });
    const t = bodies[0]!.value as RecordTransfer;
    expect(t.patient?.localPatientId).toBe("12345679");
    expect(t.patient?.identifiers.find((i) => i.value === "12345679")?.typeCode).toBe("MR");
  });

  it("warns, not fails, for unstructured documents and documents without a facility id", () => {
    const c = ccdaToCanonical(read("ccda-hl7-examples", "Unstructured_Document_reference.xml"));
    expect(c.warnings.map((w) => w.code)).toContain("ccda.unstructured");
    expect(c.warnings.map((w) => w.code)).toContain("ccda.no_local_id");
  });
});

describe("ccdaToCanonical refusals", () => {
  const ccd1 = (): string => read("ccda-hl7-examples", "CCD-1.xml").toString("utf8");

  function refusal(input: string | Uint8Array, options = {}): ConversionError {
    try {
      ccdaToCanonical(input, options);
    } catch (err) {
      expect(err).toBeInstanceOf(ConversionError);
      return err as ConversionError;
    }
    throw new Error("expected a ConversionError");
  }

  it.each([
    ["month 13", "19751301"],
    ["30 February", "19750230"],
    ["29 February in a common year", "19750229"],
    ["hour 25", "197505012500"],
    ["not a TS", "1975-05-01"],
  ])("refuses an impossible birth time (%s) at its XPath, without echoing it", (_what, value) => {
    const err = refusal(ccd1().replace('<birthTime value="19750501" />', `<birthTime value="${value}" />`));
    expect(err.location).toBe("/ClinicalDocument/recordTarget/patientRole/patient/birthTime/@value");
    expect(err.message).not.toContain(value);
    expect(err.message).not.toContain("Betterhalf");
  });

  it("reads sdtc multiple birth and deceased extensions, keeping a partial death date partial", () => {
    const xml = ccd1().replace(
      '<birthTime value="19750501" />',
      '<birthTime value="19750501" /><sdtc:multipleBirthOrderNumber value="2" /><sdtc:deceasedInd value="true" /><sdtc:deceasedTime value="202001" />',
    );
    const p = (ccdaToCanonical(xml).bodies[0]!.value as RecordTransfer).patient!;
    expect([p.multipleBirth, p.birthOrder, p.deceased]).toEqual([true, 2, true]);
    expect(p.deceasedDate).toEqual({ year: 2020, month: 1, day: 0, precision: DatePrecision.MONTH });
  });

  it("keeps partial birth dates partial", () => {
    const { bodies } = ccdaToCanonical(
      ccd1().replace('<birthTime value="19750501" />', '<birthTime value="1975" />'),
    );
    const t = bodies[0]!.value as RecordTransfer;
    expect(t.patient?.birthDate).toEqual({ year: 1975, month: 0, day: 0, precision: DatePrecision.YEAR });
  });

  it("accepts 29 February in a leap year and a timestamp with seconds and offset", () => {
    const { bodies } = ccdaToCanonical(
      ccd1().replace('<birthTime value="19750501" />', '<birthTime value="19760229103000.5-0500" />'),
    );
    const t = bodies[0]!.value as RecordTransfer;
    expect(t.patient?.birthDate).toEqual({ year: 1976, month: 2, day: 29, precision: DatePrecision.DAY });
  });

  it("refuses an impossible date inside a section entry with the entry's path", () => {
    const err = refusal(ccd1().replace('<low value="20070414" />', '<low value="20071414" />'));
    expect(err.code).toBe("ccda.impossible_date");
    expect(err.location).toMatch(
      /^\/ClinicalDocument\/component\/structuredBody\/component\[\d+\]\/section\/entry(\[\d+\])?\/.*\/low\/@value$/,
    );
  });

  it.each([
    ["plain text", "hello, this is not XML", "ccda.not_xml"],
    ["broken XML", "<ClinicalDocument><recordTarget></ClinicalDocument>", "ccda.not_xml"],
    [
      "another root element",
      '<Bundle xmlns="http://hl7.org/fhir"><id value="x"/></Bundle>',
      "ccda.not_clinical_document",
    ],
    ["empty input", "", "ccda.not_xml"],
  ])("refuses %s cleanly", (_what, input, code) => {
    expect(refusal(input).code).toBe(code);
  });

  it("refuses the care-team header fragment and the stubbed referral document deliberately", () => {
    expect(refusal(read("ccda-hl7-examples", "Care_Team_In_Transition_of_Care_C-CDA2.1.xml")).code).toBe(
      "ccda.not_clinical_document",
    );
    const err = refusal(
      read("ccda-hl7-examples", "Intervention_Planned_Referral_and_Note_Completing_Referral_C-CDAR2.1.xml"),
    );
    expect(err.code).toBe("ccda.no_record_target");
    expect(err.location).toBe("/ClinicalDocument/recordTarget/patientRole");
  });

  it("refuses entity declarations (billion laughs, XXE) before parsing", () => {
    const laughs =
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><ClinicalDocument>&lol2;</ClinicalDocument>';
    expect(refusal(laughs).code).toBe("ccda.doctype_refused");
    const xxe =
      '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><ClinicalDocument>&x;</ClinicalDocument>';
    expect(refusal(xxe).code).toBe("ccda.doctype_refused");
  });

  it("refuses documents over the size limit", () => {
    const err = refusal(read("ccda-hl7-examples", "CCD-1.xml"), { maxBytes: 10_000 });
    expect(err.code).toBe("ccda.too_large");
  });

  it("decodes predefined entities and character references without expanding anything else", () => {
    const xml = ccd1().replace(
      "<title>Patient Chart Summary</title>",
      "<title>A &amp; B &#169; &#x41; &unknown;</title>",
    );
    const t = ccdaToCanonical(xml).bodies[0]!.value as RecordTransfer;
    expect(t.records[0]?.documents[0]?.title).toBe("A & B \u00a9 A &unknown;");
  });
});
