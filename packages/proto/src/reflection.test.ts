import { describe, expect, it } from "vitest";
import { decodeByTypeName, loadContract } from "./reflection.js";
import { encodeEnvelope, newEnvelope } from "./envelope.js";
import { PurposeOfUse } from "./gen/hix/v1/common.js";
import { ReceiptStatus } from "./gen/hix/v1/exchange.js";

describe("contract reflection", () => {
  it("loads every hix.v1 message type from the .proto files", async () => {
    const root = await loadContract();
    for (const name of ["Envelope", "Patient", "RecordRequest", "LocateRequest", "AuditEvent", "Facility"]) {
      expect(root.lookupType(`hix.v1.${name}`).name).toBe(name);
    }
  });

  it("decodes generated-code bytes by type name with enum names", async () => {
    const envelope = newEnvelope({
      fromFacility: "clinic-a",
      purposeOfUse: PurposeOfUse.TREATMENT,
      body: {
        $case: "receipt",
        value: { regardingId: "r1", status: ReceiptStatus.ROUTED, code: "ok", reason: "", facilityId: "h" },
      },
    });
    const decoded = await decodeByTypeName("hix.v1.Envelope", encodeEnvelope(envelope));
    expect(decoded).toMatchObject({
      id: envelope.id,
      from_facility: "clinic-a",
      purpose_of_use: "PURPOSE_OF_USE_TREATMENT",
      body: "receipt",
      receipt: { regarding_id: "r1", status: "RECEIPT_STATUS_ROUTED" },
    });
  });
});
