import { readFileSync } from "node:fs";
import {
  AddressUse,
  AdministrativeSex,
  AnnouncementKind,
  ContactPointUse,
  ConversionError,
  DatePrecision,
  DocumentStatus,
  type EnvelopeBody,
  NameUse,
  ObservationStatus,
  type PatientAnnouncement,
  type RecordTransfer,
  type ReferralPacket,
  ReferralUrgency,
  VerificationStatus,
} from "@hix/proto";
import { describe, expect, it } from "vitest";
import { DATA_ROOT } from "../corpus.test-util.js";
import { parse } from "../parse.js";
import { canonicalToHl7v2 } from "./to-hl7v2.js";
import { hl7v2ToCanonical, type Hl7ToCanonicalOptions } from "./to-canonical.js";

const sample = (name: string): string => readFileSync(DATA_ROOT + name, "utf8");
const RENDER = { sendingFacility: "fac-a", receivingFacility: "fac-b", controlId: "T1", now: new Date(0) };

function only(text: string, options: Hl7ToCanonicalOptions = {}): EnvelopeBody {
  const { bodies } = hl7v2ToCanonical(text, options);
  expect(bodies.length).toBe(1);
  return bodies[0]!;
}
function announcement(b: EnvelopeBody): PatientAnnouncement {
  if (b.$case !== "patientAnnouncement") throw new Error(`expected an announcement, got ${b.$case}`);
  return b.value;
}
function transfer(b: EnvelopeBody): RecordTransfer {
  if (b.$case !== "recordTransfer") throw new Error(`expected a transfer, got ${b.$case}`);
  return b.value;
}
function referral(b: EnvelopeBody): ReferralPacket {
  if (b.$case !== "referralPacket") throw new Error(`expected a referral, got ${b.$case}`);
  return b.value;
}
function refusal(fn: () => unknown): ConversionError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConversionError) return e;
    throw e;
  }
  throw new Error("expected a ConversionError");
}

const ADT_FULL = "hl7v2-rethinkhealth-qa/adt-a01-full.hl7";

describe("ADT → PatientAnnouncement", () => {
  it("maps the A01 patient: ids with assigner and type, names with use, DOB, sex, address, telecom", () => {
    const a = announcement(only(sample(ADT_FULL), { facilityId: "hosp-a" }));
    expect(a.kind).toBe(AnnouncementKind.REGISTERED);
    expect(a.sourceEvent).toBe("ADT^A01");
    expect(a.occurredAt).toEqual(new Date("2026-04-01T08:30:00Z"));
    const p = a.patient!;
    expect(p.sourceFacility).toBe("hosp-a");
    expect(p.localPatientId).toBe("98765");
    expect(p.identifiers.map((i) => [i.value, i.system, i.typeCode])).toEqual([
      ["98765", "MRN", "MR"],
      ["555-12-3456", "SSN", "SS"],
      ["123-45-6789", "http://hl7.org/fhir/sid/us-ssn", "SS"],
    ]);
    expect(p.names).toEqual([
      {
        use: NameUse.UNSPECIFIED,
        family: "SMITH",
        given: ["ALICE", "M"],
        prefix: ["Dr"],
        suffix: ["JR"],
        text: "",
      },
    ]);
    expect(p.birthDate).toEqual({ year: 1975, month: 3, day: 15, precision: DatePrecision.DAY });
    expect(p.sex).toBe(AdministrativeSex.FEMALE);
    expect(p.addresses[0]).toMatchObject({
      use: AddressUse.HOME,
      lines: ["456 OAK AVE"],
      city: "METROPOLIS",
      postalCode: "62960",
    });
    expect(p.telecom.map((t) => [t.value, t.use])).toEqual([
      ["217-555-9876", ContactPointUse.HOME],
      ["217-555-4321", ContactPointUse.WORK],
      ["217-555-0000", ContactPointUse.WORK],
    ]);
    expect(p.maritalStatus?.code).toBe("M");
  });

  it("reads XPN-7 name types, CX-4 universal ids and PID-7 with a time and offset as a day", () => {
    const p = announcement(only(sample("hl7v2-ms-fhir-converter/ADT-A01-02.hl7"))).patient!;
    expect(p.names.map((n) => [n.family, n.use])).toEqual([
      ["EVERYMAN", NameUse.USUAL],
      ["Josh", NameUse.OFFICIAL],
      ["elbert", NameUse.UNSPECIFIED], // PID-9 alias
    ]);
    // PID-3 first, then PID-2 (external id), PID-4 (alternate id) and PID-19 (SSN).
    expect(p.identifiers.map((i) => i.value)).toEqual([
      "PATID1234",
      "123456789",
      "1234567",
      "PATID567",
      "PSSN123121234",
    ]);
    expect(p.identifiers[0]).toMatchObject({ system: "2.16.1", assigner: "test1", typeCode: "MR" });
    expect(p.identifiers[1]).toMatchObject({ system: "USSSA", assigner: "USSSA", typeCode: "SS" });
    expect(p.localPatientId).toBe("PATID1234");
    expect(p.birthDate).toEqual({ year: 1988, month: 8, day: 18, precision: DatePrecision.DAY });
  });

  it("honours time zone offsets: EVN-6 event occurred 20210817151943.4+0200 is 13:19:43.400 UTC", () => {
    const a = announcement(only(sample("hl7v2-ms-fhir-converter/ADT-A01-02.hl7")));
    expect(a.occurredAt).toEqual(new Date("2021-08-17T13:19:43.400Z"));
  });

  it.each([
    ["1975", { year: 1975, month: 0, day: 0, precision: DatePrecision.YEAR }],
    ["197503", { year: 1975, month: 3, day: 0, precision: DatePrecision.MONTH }],
    ["19750315", { year: 1975, month: 3, day: 15, precision: DatePrecision.DAY }],
    ["197503151230-0500", { year: 1975, month: 3, day: 15, precision: DatePrecision.DAY }],
  ])("keeps a PID-7 of %s to its precision", (dob, expected) => {
    const text = sample(ADT_FULL).replace("|19750315|", `|${dob}|`);
    expect(announcement(only(text)).patient!.birthDate).toEqual(expected);
  });

  it.each([
    ["19541332", "hl7.impossible_date"],
    ["20230230", "hl7.impossible_date"],
    ["19750229", "hl7.impossible_date"],
    ["1975031", "hl7.bad_timestamp"],
    ["19750315+2500", "hl7.impossible_date"],
  ])("refuses PID-7 %s at PID-7 without quoting it", (dob, code) => {
    const e = refusal(() => hl7v2ToCanonical(sample(ADT_FULL).replace("|19750315|", `|${dob}|`)));
    expect([e.code, e.location]).toEqual([code, "PID-7"]);
    expect(e.message).not.toContain(dob);
    expect(e.message).not.toContain("SMITH");
  });

  it("maps PID-24/25 multiple birth and PID-29/30 death", () => {
    const text = sample("hl7v2-rethinkhealth-qa/adt-a01-basic.hl7").replace(
      /^(PID.*)$/m,
      (pid) => `${pid}${"|".repeat(24 - pid.split("|").length + 1)}Y|2||||201105|Y`,
    );
    const p = announcement(only(text)).patient!;
    expect([p.multipleBirth, p.birthOrder, p.deceased]).toEqual([true, 2, true]);
    expect(p.deceasedDate).toEqual({ year: 2011, month: 5, day: 0, precision: DatePrecision.MONTH });
  });

  it("announces an update for A08 and A03", () => {
    for (const f of ["ADT-A08-01.hl7", "ADT-A03-01.hl7"]) {
      expect(announcement(only(sample(`hl7v2-ms-fhir-converter/${f}`))).kind).toBe(AnnouncementKind.UPDATED);
    }
  });

  it("turns each PID/MRG pair of an A40 into one MERGED announcement with MRG-1 as retired ids", () => {
    const { bodies } = hl7v2ToCanonical(sample("hl7v2-ms-fhir-converter/ADT-A40-02.hl7"));
    const merges = bodies.map(announcement);
    expect(merges.map((m) => m.kind)).toEqual([AnnouncementKind.MERGED, AnnouncementKind.MERGED]);
    expect(merges.map((m) => m.patient!.localPatientId)).toEqual(["12345", "145"]);
    expect(merges.map((m) => m.retiredIds.map((i) => [i.value, i.assigner, i.typeCode]))).toEqual([
      [["56789", "BCBS", "MR"]],
      [["569", "BCBS", "MR"]],
    ]);
  });

  it("uses the configured MRN type codes for the local patient id", () => {
    const p = announcement(only(sample(ADT_FULL), { mrnTypeCodes: ["SS"] })).patient!;
    expect(p.localPatientId).toBe("555-12-3456");
  });
});

describe("ORU^R01 → RecordTransfer", () => {
  it("maps OBX numeric values with units, range, flags and status under their OBR", () => {
    const t = transfer(only(sample("hl7v2-rethinkhealth-qa/oru-r01-lab.hl7")));
    const rec = t.records[0]!;
    const [panel, wbc] = rec.observations;
    expect(panel).toMatchObject({
      id: "LAB001",
      orderId: "LAB001",
      code: { code: "CBC", system: "http://loinc.org" },
    });
    expect(panel!.value).toBeUndefined();
    expect(wbc).toMatchObject({
      id: "LAB001-1",
      orderId: "LAB001",
      status: ObservationStatus.FINAL,
      code: { code: "WBC", display: "White Blood Cell Count" },
      value: { $case: "valueQuantity", value: { value: 7.5, unit: "10*3/uL", comparator: "" } },
      interpretations: [{ code: "N", system: "http://terminology.hl7.org/CodeSystem/v2-0078" }],
    });
    expect(wbc!.referenceRanges[0]).toMatchObject({ low: { value: 4.5 }, high: { value: 11 } });
    expect(rec.observations.length).toBe(6);
    expect(t.patient!.localPatientId).toBe("67890");
  });

  it("reads OBX-14 with an offset as UTC and leaves empty results without a value", () => {
    const obs = transfer(only(sample("hl7v2-ms-fhir-converter/LAB-ORU-1.hl7"))).records[0]!.observations;
    const leukocytes = obs.find((o) => o.code?.code === "11156-7")!;
    expect(leukocytes.value).toBeUndefined();
    expect(leukocytes.status).toBe(ObservationStatus.REGISTERED);
    const erythrocytes = obs.find((o) => o.code?.code === "11273-0")!;
    expect(erythrocytes.effectiveAt).toEqual(new Date("2014-10-05T23:27:00Z"));
  });

  it("decodes FT line breaks and repetitions into newlines", () => {
    const obs = transfer(only(sample("hl7v2-nhapi/oru-r01-ft-linebreak-escapes.hl7"))).records[0]!
      .observations;
    expect(obs[1]!.value).toEqual({
      $case: "valueString",
      value: "This\nis\nA Test\nMoreText\nSomeMoreText",
    });
  });

  it("reads SN values as quantities with their comparator", () => {
    const text = sample("hl7v2-rethinkhealth-qa/oru-r01-lab.hl7").replace(
      "|NM|WBC^White Blood Cell Count^LN||7.5|",
      "|SN|WBC^White Blood Cell Count^LN||<^7.5|",
    );
    const wbc = transfer(only(text)).records[0]!.observations[1]!;
    expect(wbc.value).toEqual({
      $case: "valueQuantity",
      value: { value: 7.5, unit: "10*3/uL", code: "10*3/uL", system: "", comparator: "<" },
    });
  });

  it("maps local codes through the facility code map", () => {
    const loinc = { system: "http://loinc.org", code: "6690-2", display: "Leukocytes [#/volume] in Blood" };
    const t = transfer(
      only(sample("hl7v2-rethinkhealth-qa/oru-r01-lab.hl7"), { codeMaps: { LN: { WBC: loinc } } }),
    );
    expect(t.records[0]!.observations[1]!.code).toEqual({ ...loinc, version: "" });
    expect(t.records[0]!.observations[2]!.code?.code).toBe("RBC");
  });

  it("refuses an impossible OBX-14 at its location", () => {
    const text = sample("hl7v2-ms-fhir-converter/LAB-ORU-1.hl7").replace(
      "20141006062700+0700",
      "20141306062700+0700",
    );
    const e = refusal(() => hl7v2ToCanonical(text));
    expect([e.code, e.location]).toEqual(["hl7.impossible_date", "OBX[2]-14"]);
  });
});

describe("MDM^T02 → RecordTransfer with a Document", () => {
  it("maps TXA type, author time and OBX text content", () => {
    const doc = transfer(only(sample("hl7v2-rethinkhealth-qa/mdm-t02-document.hl7"))).records[0]!
      .documents[0]!;
    expect(doc.type).toMatchObject({ code: "HP", display: "History and Physical" });
    expect(doc.mediaType).toBe("text/plain");
    expect(doc.createdAt).toEqual(new Date("2026-03-22T15:00:00Z"));
    expect(Buffer.from(doc.content!.value as Uint8Array).toString("utf8")).toBe(
      "Patient presents with complaints of persistent headaches for the past 2 weeks.",
    );
  });

  it("maps TXA-12 and an ED media type without data", () => {
    const doc = transfer(only(sample("hl7v2-ms-fhir-converter/MDM-T02-01.hl7"))).records[0]!.documents[0]!;
    expect(doc.id).toBe("1.2.840.317.5947431.51.20080131160038");
    expect(doc.mediaType).toBe("application/pdf");
    expect(doc.content).toBeUndefined();
  });

  it("decodes ED Base64 content and refuses broken Base64 at OBX-5.5", () => {
    const base = sample("hl7v2-rethinkhealth-qa/mdm-t02-document.hl7").replace(
      /^OBX.*$/m,
      "OBX|1|ED|PDF^Report||^AP^pdf^Base64^JVBERi0xLjQ=||||||F",
    );
    const doc = transfer(only(base)).records[0]!.documents[0]!;
    expect(doc.mediaType).toBe("application/pdf");
    expect(Buffer.from(doc.content!.value as Uint8Array).toString("latin1")).toBe("%PDF-1.4");
    expect(doc.status).toBe(DocumentStatus.UNSPECIFIED);
    const e = refusal(() => hl7v2ToCanonical(base.replace("JVBERi0xLjQ=", "JVB*Ri0xLjQ=")));
    expect([e.code, e.location]).toEqual(["hl7.bad_base64", "OBX-5.5"]);
  });
});

describe("REF^I12 → ReferralPacket", () => {
  it("maps RF1 reason, urgency and ids, PRD providers, DG1 problems and OBX results", () => {
    const r = referral(only(sample("hl7v2-ms-fhir-converter/REF-I12-01.hl7"), { facilityId: "ghh" }));
    expect(r.reason).toBe("Provider Ordered");
    expect(r.reasonCodes).toEqual([
      {
        system: "http://terminology.hl7.org/CodeSystem/v2-0336",
        code: "O",
        display: "Provider Ordered",
        version: "",
      },
    ]);
    expect(r.urgency).toBe(ReferralUrgency.ROUTINE);
    expect(r.referralId).toBe("226839");
    expect(r.referringFacilityId).toBe("ghh");
    expect(r.referredAt).toEqual(new Date("2022-01-25T00:00:00Z"));
    expect(r.referringPractitioner?.name?.family).toBe("POWELL");
    expect(r.receivingPractitioner?.name?.family).toBe("McWILLIAMS");
    expect(r.patient?.localPatientId).toBe("PATID1234");
    expect(r.problems.map((c) => [c.code?.code, c.verificationStatus])).toEqual([
      ["K63.3", VerificationStatus.CONFIRMED],
    ]);
    expect(r.allergies[0]?.code?.code).toBe("XYZallergen");
    expect(r.results.find((o) => o.value !== undefined)?.value).toEqual({
      $case: "valueString",
      value: "Positive",
    });
  });
});

describe("refusals", () => {
  it("refuses unmapped message types naming MSH-9", () => {
    const e = refusal(() => hl7v2ToCanonical(sample("hl7v2-rethinkhealth-qa/siu-s12-schedule.hl7")));
    expect([e.code, e.location]).toEqual(["hl7.unsupported_message", "MSH-9"]);
    expect(e.message).toContain("SIU^S12");
  });

  it("refuses an ADT^A01 without PID", () => {
    const e = refusal(() =>
      hl7v2ToCanonical("MSH|^~\\&|A|B|C|D|20260101||ADT^A01|1|P|2.5\rEVN|A01|20260101\r"),
    );
    expect([e.code, e.location]).toEqual(["hl7.missing_segment", "PID"]);
  });
});

describe("canonical → HL7 v2", () => {
  it("writes ADT^A04, A08 and A40 with MRG for the announcement kinds", () => {
    const a = announcement(only(sample(ADT_FULL)));
    const render = (kind: AnnouncementKind): string =>
      canonicalToHl7v2({ $case: "patientAnnouncement", value: { ...a, kind, sourceEvent: "" } }, RENDER);
    expect(parse(render(AnnouncementKind.REGISTERED)).getRaw("MSH-9")).toBe("ADT^A04^ADT_A01");
    expect(parse(render(AnnouncementKind.UPDATED)).getRaw("MSH-9")).toBe("ADT^A08^ADT_A01");
    const merge = parse(render(AnnouncementKind.MERGED));
    expect(merge.getRaw("MSH-9")).toBe("ADT^A40^ADT_A39");
    expect(merge.segment("MRG")).toBeDefined();
    expect(merge.get("MSH-4")).toBe("fac-a");
    expect(merge.get("MSH-10")).toBe("T1");
  });

  it("escapes delimiters and line breaks so values come back unchanged", () => {
    const a = announcement(only(sample(ADT_FULL)));
    a.patient!.names[0]!.family = "O|Brien^&~\\Smith";
    a.patient!.addresses[0]!.lines = ["Flat 2\nBlock B"];
    const text = canonicalToHl7v2({ $case: "patientAnnouncement", value: a }, RENDER);
    expect(text).toContain("O\\F\\Brien\\S\\\\T\\\\R\\\\E\\Smith");
    const back = announcement(only(text)).patient!;
    expect(back.names[0]!.family).toBe("O|Brien^&~\\Smith");
    expect(back.addresses[0]!.lines).toEqual(["Flat 2\nBlock B"]);
  });

  it("writes an MDM^T02 per document and an ORU^R01 for observations", () => {
    const oru = transfer(only(sample("hl7v2-rethinkhealth-qa/oru-r01-lab.hl7")));
    const mdm = transfer(only(sample("hl7v2-rethinkhealth-qa/mdm-t02-document.hl7")));
    const both = { ...oru, records: [{ ...oru.records[0]!, documents: mdm.records[0]!.documents }] };
    const text = canonicalToHl7v2({ $case: "recordTransfer", value: both }, RENDER);
    const types = text
      .split("\r")
      .filter((s) => s.startsWith("MSH"))
      .map((s) => s.split("|")[8]);
    expect(types).toEqual(["ORU^R01^ORU_R01", "MDM^T02^MDM_T02"]);
    expect(text).toContain("|T1-2|");
  });

  it("refuses bodies with no HL7 v2 form", () => {
    const e = refusal(() =>
      canonicalToHl7v2(
        { $case: "receipt", value: { regardingId: "x", status: 1, code: "", reason: "", facilityId: "" } },
        RENDER,
      ),
    );
    expect(e.code).toBe("hl7.unsupported_body");
  });
});
