import { describe, expect, it } from "vitest";
import { convertInbound } from "./codecs.js";
import { parseProfile } from "./profile.js";

const profile = parseProfile({
  id: "oak-street",
  name: "Oak Street Practice",
  csv: {
    delimiter: ",",
    header: true,
    fields: { recordId: "id", mrn: "id", given: "given", family: "family", birthDate: "dob" },
    dateFormats: ["YYYY-MM-DD"],
  },
});

describe("convertInbound", () => {
  it("announces CSV rows as patients of the facility whose profile converted them", () => {
    const conversion = convertInbound("csv", "id,given,family,dob\nA-1,Ada,Lovelace,1815-12-10\n", {
      profile,
    });
    const body = conversion.bodies[0];
    expect(body?.$case).toBe("patientAnnouncement");
    const patient = body?.$case === "patientAnnouncement" ? body.value.patient : undefined;
    expect(patient?.sourceFacility).toBe("oak-street");
    expect(patient?.localPatientId).toBe("A-1");
  });

  it("stamps the facility on patients from HL7 v2, FHIR and C-CDA too", () => {
    const fhir = convertInbound(
      "fhir",
      JSON.stringify({
        resourceType: "Patient",
        id: "p1",
        name: [{ family: "Lovelace" }],
        birthDate: "1815",
      }),
      { profile },
    );
    const body = fhir.bodies[0];
    expect(body?.$case === "patientAnnouncement" ? body.value.patient?.sourceFacility : undefined).toBe(
      "oak-street",
    );
  });
});
