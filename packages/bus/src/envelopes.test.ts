import { describe, expect, it } from "vitest";
import { PurposeOfUse, ReceiptStatus, encodeEnvelope, newEnvelope, type Envelope } from "@hix/proto";
import type { Delivery } from "./consumer.js";
import { envelopeHandler, subjectKind } from "./envelopes.js";
import { ack, retry, type Outcome } from "./outcome.js";

const receipt = (regardingId: string): Envelope =>
  newEnvelope({
    fromFacility: "hix",
    toFacility: "clinic-b",
    purposeOfUse: PurposeOfUse.TREATMENT,
    body: {
      $case: "receipt",
      value: { regardingId, status: ReceiptStatus.ROUTED, code: "", reason: "routed", facilityId: "hosp-a" },
    },
  });

const batchOf = (receipts: Envelope[]): Envelope =>
  newEnvelope({
    fromFacility: "hix",
    toFacility: "clinic-b",
    purposeOfUse: PurposeOfUse.UNSPECIFIED,
    body: { $case: "receiptBatch", value: { receipts } },
  });

const delivery = (data: Uint8Array): Delivery => ({
  subject: "hix.out.clinic-b.receipt",
  data,
  headers: undefined,
  messageId: "m-1",
  deliveryCount: 1,
  streamSequence: 1,
});

describe("envelopeHandler", () => {
  it("hands a batch's receipts over one by one, in order, and acks the message after the last", async () => {
    const seen: string[] = [];
    const handle = envelopeHandler(async (e) => {
      seen.push(e.body?.$case === "receipt" ? e.body.value.regardingId : `not a receipt: ${e.body?.$case}`);
      return ack();
    });
    const batch = batchOf(["A", "B", "C"].map(receipt));
    expect(subjectKind(batch)).toBe("receipt");
    expect(await handle(delivery(encodeEnvelope(batch)))).toEqual(ack());
    expect(seen).toEqual(["A", "B", "C"]);
  });

  it("stops at the first receipt not acked and gives the message that outcome", async () => {
    const seen: string[] = [];
    const handle = envelopeHandler(async (e): Promise<Outcome> => {
      const id = e.body?.$case === "receipt" ? e.body.value.regardingId : "";
      seen.push(id);
      return id === "B" ? retry("test.busy", "not now") : ack();
    });
    const outcome = await handle(delivery(encodeEnvelope(batchOf(["A", "B", "C"].map(receipt)))));
    expect(outcome).toMatchObject({ kind: "retry", code: "test.busy" });
    expect(seen).toEqual(["A", "B"]);
  });

  it("hands any other envelope over as it is, and rejects bytes that are not an envelope", async () => {
    const seen: Envelope[] = [];
    const handle = envelopeHandler(async (e) => {
      seen.push(e);
      return ack();
    });
    const single = receipt("A");
    await handle(delivery(encodeEnvelope(single)));
    expect(seen).toEqual([single]);
    expect(await handle(delivery(Buffer.from("MSH|^~\\&|")))).toMatchObject({
      kind: "reject",
      code: "proto.decode",
    });
  });
});
