import { describe, expect, it } from "vitest";
import {
  DisclosureAction,
  Facility,
  PurposeOfUse,
  ReceiptStatus,
  RecordRequest,
  RecordTransfer,
  SensitivityLabel,
  encodeEnvelope,
  newEnvelope,
  type Envelope,
} from "@hix/proto";
import { disclosureAction } from "./directory.js";
import { RouterRejection } from "./errors.js";
import { receiptMsgId } from "./receipts.js";
import { decodeSubmission, validateEnvelope } from "./validate.js";

const NOW = new Date("2026-03-01T12:00:00Z");

function request(patch: Partial<RecordRequest> = {}, to = ""): Envelope {
  return newEnvelope({
    fromFacility: "hospital-a",
    toFacility: to,
    purposeOfUse: PurposeOfUse.TREATMENT,
    body: {
      $case: "recordRequest",
      value: RecordRequest.fromPartial({
        patient: { localPatientId: "MRN-1" },
        holder: { $case: "facilityId", value: "clinic-b" },
        ...patch,
      }),
    },
  });
}

const rejectionOf = (fn: () => unknown): RouterRejection => {
  try {
    fn();
  } catch (err) {
    if (err instanceof RouterRejection) return err;
    throw err;
  }
  throw new Error("expected a RouterRejection");
};

describe("decodeSubmission", () => {
  it("refuses bytes over the limit before decoding them", () => {
    const bytes = encodeEnvelope(request());
    expect(rejectionOf(() => decodeSubmission(bytes, bytes.byteLength - 1)).code).toBe("router.too_large");
    expect(decodeSubmission(bytes, bytes.byteLength).id).toHaveLength(26);
  });

  it.each([
    ["text", Buffer.from("MSH|^~\\&|ADT1|GOOD HEALTH HOSPITAL")],
    ["empty", new Uint8Array(0)],
    ["truncated", encodeEnvelope(request()).subarray(0, 20)],
  ])("refuses %s as undecodable, naming no content", (_name, bytes) => {
    const r = rejectionOf(() => decodeSubmission(bytes, 1 << 20));
    expect(r.code).toBe("router.undecodable");
    expect(r.message).not.toContain("GOOD HEALTH");
  });
});

describe("validateEnvelope", () => {
  const cases: Array<[string, () => Envelope, string]> = [
    ["an id that is not a ULID", () => ({ ...request(), id: "42" }), "router.invalid"],
    ["no created_at", () => ({ ...request(), createdAt: undefined }), "router.invalid"],
    ["a bad to_facility", () => ({ ...request(), toFacility: "a.b" }), "router.invalid"],
    [
      "a facility id longer than 64 characters",
      () => request({ holder: { $case: "facilityId", value: "c".repeat(65) } }),
      "router.invalid",
    ],
    [
      "a correlation id that is not a ULID",
      () => ({ ...request(), correlationId: "a\u0000b" }),
      "router.invalid",
    ],
    [
      "a causation id that is not a ULID",
      () => ({ ...request(), causationId: "x".repeat(300) }),
      "router.invalid",
    ],
    [
      "a transfer in reply to something that is not a ULID",
      () =>
        newEnvelope({
          fromFacility: "clinic-b",
          toFacility: "hospital-a",
          purposeOfUse: PurposeOfUse.TREATMENT,
          body: { $case: "recordTransfer", value: RecordTransfer.fromPartial({ inReplyTo: "req-1" }) },
        }),
      "router.invalid",
    ],
    [
      "a receipt about something that is not a ULID",
      () =>
        newEnvelope({
          fromFacility: "hospital-a",
          purposeOfUse: PurposeOfUse.REFERRAL,
          body: {
            $case: "receipt",
            value: {
              regardingId: "ref-1",
              status: ReceiptStatus.ACCEPTED,
              code: "",
              reason: "",
              facilityId: "",
            },
          },
        }),
      "router.invalid",
    ],
    ["a request without patient", () => request({ patient: undefined }), "router.invalid"],
    ["a request without holder", () => request({ holder: undefined }), "router.invalid"],
    ["holder and to_facility disagreeing", () => request({}, "clinic-c"), "router.invalid"],
    [
      "a body changed after hashing",
      () => {
        const e = request();
        return {
          ...e,
          body: { $case: "recordRequest", value: { ...(e.body!.value as RecordRequest), reason: "x" } },
        };
      },
      "router.content_hash_mismatch",
    ],
    [
      "a deadline already past",
      () => request({ deadline: new Date(NOW.getTime() - 1) }),
      "router.deadline_passed",
    ],
  ];
  it.each(cases)("refuses %s", (_name, make, code) => {
    expect(rejectionOf(() => validateEnvelope(make(), NOW)).code).toBe(code);
  });

  it("gives an expired deadline an EXPIRED receipt status, other refusals REJECTED", () => {
    expect(rejectionOf(() => validateEnvelope(request({ deadline: new Date(0) }), NOW)).status).toBe(
      ReceiptStatus.EXPIRED,
    );
    expect(rejectionOf(() => validateEnvelope({ ...request(), id: "x" }, NOW)).status).toBe(
      ReceiptStatus.REJECTED,
    );
  });

  it("accepts a well-formed request with a future deadline", () => {
    expect(() =>
      validateEnvelope(request({ deadline: new Date(NOW.getTime() + 60_000) }), NOW),
    ).not.toThrow();
  });
});

describe("disclosureAction", () => {
  const facility = Facility.fromPartial({
    id: "clinic-b",
    disclosurePolicy: {
      rules: [
        { purpose: PurposeOfUse.TREATMENT, action: DisclosureAction.AUTO_ANSWER },
        { purpose: PurposeOfUse.RESEARCH, action: DisclosureAction.REFUSE },
        { purpose: PurposeOfUse.TREATMENT, action: DisclosureAction.REFUSE },
      ],
      defaultAction: DisclosureAction.UNSPECIFIED,
      reviewSensitivity: [SensitivityLabel.MENTAL_HEALTH],
    },
  });
  it.each([
    [PurposeOfUse.TREATMENT, [], DisclosureAction.AUTO_ANSWER], // first rule wins
    [PurposeOfUse.RESEARCH, [], DisclosureAction.REFUSE],
    [PurposeOfUse.PAYMENT, [], DisclosureAction.REVIEW], // unspecified default → review
    [PurposeOfUse.TREATMENT, [SensitivityLabel.MENTAL_HEALTH], DisclosureAction.REVIEW],
  ])("purpose %s with labels %j → %s", (purpose, labels, action) => {
    expect(disclosureAction(facility, purpose, labels)).toBe(action);
  });
});

describe("receiptMsgId", () => {
  it("is the same for the same receipt and differs by status and facility", () => {
    const a = receiptMsgId({ regardingId: "R", status: ReceiptStatus.ROUTED, facilityId: "clinic-b" });
    expect(a).toBe("R.receipt.routed.clinic-b");
    expect(receiptMsgId({ regardingId: "R", status: ReceiptStatus.ROUTED, facilityId: "clinic-c" })).not.toBe(
      a,
    );
    expect(receiptMsgId({ regardingId: "R", status: ReceiptStatus.REJECTED, facilityId: "" })).toBe(
      "R.receipt.rejected.-",
    );
  });
});
