import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";
import { describe, expect, it } from "vitest";
import type { EnvelopeBody, EnvelopeKind } from "./envelope.js";
import {
  EnvelopeBodyMissingError,
  ProtoDecodeError,
  bodyHash,
  decodeEnvelope,
  encodeEnvelope,
  envelopeKind,
  hasValidBodyHash,
  newEnvelope,
  unbatch,
} from "./envelope.js";
import { DatePrecision, NameUse, PurposeOfUse, SensitivityLabel } from "./gen/hix/v1/common.js";
import { ObservationStatus } from "./gen/hix/v1/clinical.js";
import { BinaryReader } from "@bufbuild/protobuf/wire";
import { Envelope, ReceiptBatch } from "./gen/hix/v1/envelope.js";
import {
  AnnouncementKind,
  PatientAnnouncement,
  Receipt,
  ReceiptStatus,
  RecordCategory,
  RecordRequest,
  RecordTransfer,
  ReferralPacket,
  ReferralUrgency,
  TransferOutcome,
} from "./gen/hix/v1/exchange.js";
import { IdentityAlert, IdentityAlertKind } from "./gen/hix/v1/reconciliation.js";
import { AdministrativeSex, Patient } from "./gen/hix/v1/patient.js";
import { isUlid } from "./ulid.js";

// A made-up patient; the family name doubles as a marker that must never show up in errors.
const MARKER = "Zebulonovich";
const patient = Patient.fromPartial({
  sourceFacility: "clinic-north",
  localPatientId: "MRN-000123",
  identifiers: [
    { value: "000123", system: "urn:oid:2.16.840.1.113883.19.5", assigner: "CN", typeCode: "MR" },
  ],
  names: [{ use: NameUse.OFFICIAL, family: MARKER, given: ["Ada", "Q"] }],
  birthDate: { year: 1987, month: 4, day: 0, precision: DatePrecision.MONTH },
  sex: AdministrativeSex.FEMALE,
  multipleBirth: true,
  birthOrder: 2,
});

// One body per case. The mapped type makes tsc fail when a new body case is
// added to the contract without a round-trip case here.
const bodies: { [K in EnvelopeKind]: Extract<EnvelopeBody, { $case: K }>["value"] } = {
  recordRequest: RecordRequest.fromPartial({
    patient,
    holder: {
      $case: "locate",
      value: { minScore: 0.8, maxHolders: 5, excludeFacilityIds: ["hosp-central"] },
    },
    categories: [RecordCategory.OBSERVATIONS, RecordCategory.DOCUMENTS],
    dateRange: { start: new Date("2020-01-01T00:00:00Z") },
    deadline: new Date("2030-01-01T12:00:00.250Z"),
    reason: "pre-operative assessment",
  }),
  recordTransfer: RecordTransfer.fromPartial({
    inReplyTo: "01ARYZ6S41TSV4RRFFQ69G5FAV",
    patient,
    outcome: TransferOutcome.RECORDS,
    records: [
      {
        sourceFacility: "clinic-north",
        localPatientId: "MRN-000123",
        observations: [
          {
            id: "obs-1",
            code: { system: "http://loinc.org", code: "2345-7", display: "Glucose" },
            status: ObservationStatus.FINAL,
            value: { $case: "valueQuantity", value: { value: 5.4, unit: "mmol/L" } },
          },
          { id: "obs-2", value: { $case: "valueInteger", value: 2n ** 62n } },
        ],
        documents: [
          {
            id: "doc-1",
            mediaType: "application/pdf",
            content: { $case: "inline", value: Buffer.from("%PDF-1.7") },
          },
          {
            id: "doc-2",
            content: {
              $case: "attachment",
              value: {
                bucket: "hix-attachments",
                key: "doc-2",
                sha256: Buffer.alloc(32, 7),
                size: 5_000_000n,
              },
            },
          },
        ],
      },
    ],
  }),
  referralPacket: ReferralPacket.fromPartial({
    referralId: "ref-9",
    referringFacilityId: "practice-east",
    receivingFacilityId: "hosp-central",
    patient,
    urgency: ReferralUrgency.URGENT,
    summary: "chest pain on exertion",
    problems: [{ id: "p1", code: { system: "http://snomed.info/sct", code: "29857009" } }],
  }),
  patientAnnouncement: PatientAnnouncement.fromPartial({
    kind: AnnouncementKind.MERGED,
    patient,
    retiredIds: [{ value: "000999", typeCode: "MR" }],
    sourceEvent: "ADT^A40",
  }),
  receipt: Receipt.fromPartial({
    regardingId: "01ARYZ6S41TSV4RRFFQ69G5FAV",
    status: ReceiptStatus.REJECTED,
    code: "router.unknown_facility",
    reason: "destination facility is not in the directory",
    facilityId: "nowhere",
  }),
  identityAlert: IdentityAlert.fromPartial({
    alertId: "01ARYZ6S41TSV4RRFFQ69G5FAW",
    kind: IdentityAlertKind.DUPLICATE,
    records: [
      { facilityId: "clinic-north", localPatientId: "MRN-000123" },
      { facilityId: "clinic-north", localPatientId: "MRN-000999" },
    ],
    score: 0.93,
    reason: "same name and birth date, different MRN",
  }),
  receiptBatch: ReceiptBatch.fromPartial({
    receipts: [1, 2].map((n) =>
      newEnvelope({
        fromFacility: "hix",
        toFacility: "clinic-north",
        purposeOfUse: PurposeOfUse.TREATMENT,
        causationId: "01ARYZ6S41TSV4RRFFQ69G5FAV",
        body: {
          $case: "receipt",
          value: Receipt.fromPartial({
            regardingId: "01ARYZ6S41TSV4RRFFQ69G5FAV",
            status: ReceiptStatus.ROUTED,
            facilityId: `hosp-${n}`,
          }),
        },
      }),
    ),
  }),
};

const cases = Object.entries(bodies).map(([kind, value]) => ({
  kind,
  body: { $case: kind, value } as EnvelopeBody,
}));

function envelopeWith(body: EnvelopeBody): Envelope {
  return newEnvelope({
    fromFacility: "clinic-north",
    toFacility: "hosp-central",
    purposeOfUse: PurposeOfUse.TREATMENT,
    sensitivity: [SensitivityLabel.NORMAL, SensitivityLabel.HIV],
    body,
  });
}

describe("envelope", () => {
  it.each(cases)("round-trips a $kind envelope through protobuf bytes", ({ kind, body }) => {
    const envelope = envelopeWith(body);
    const decoded = decodeEnvelope(encodeEnvelope(envelope));
    expect(decoded).toEqual(envelope);
    expect(envelopeKind(decoded)).toBe(kind);
    expect(hasValidBodyHash(decoded)).toBe(true);
  });

  it.each(cases)("writes a $kind envelope that protobufjs reads from the .proto files", async ({ body }) => {
    const protoRoot = fileURLToPath(new URL("../../../proto", import.meta.url));
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) =>
      target.startsWith("google/") ? target : `${protoRoot}/${target}`;
    await root.load("hix/v1/envelope.proto", { keepCase: true });
    const type = root.lookupType("hix.v1.Envelope");
    const envelope = envelopeWith(body);
    const read = type.toObject(type.decode(encodeEnvelope(envelope)), { oneofs: true, enums: String });
    expect(read["id"]).toBe(envelope.id);
    expect(read["purpose_of_use"]).toBe("PURPOSE_OF_USE_TREATMENT");
    expect(read["body"]).toBe(
      // protobufjs names the oneof case by its proto field name (snake_case).
      body.$case.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
    );
  });

  it("unbatches a receipt batch into its receipt envelopes, and any other envelope into itself", () => {
    const batch = decodeEnvelope(
      encodeEnvelope(envelopeWith({ $case: "receiptBatch", value: bodies.receiptBatch })),
    );
    const receipts = unbatch(batch);
    expect(receipts).toEqual(bodies.receiptBatch.receipts);
    expect(receipts.map((r) => (r.body?.$case === "receipt" ? r.body.value.facilityId : ""))).toEqual([
      "hosp-1",
      "hosp-2",
    ]);
    expect(receipts.every((r) => hasValidBodyHash(r))).toBe(true);
    const single = envelopeWith({ $case: "receipt", value: bodies.receipt });
    expect(unbatch(single)).toEqual([single]);
  });

  it("leaves out of a batch anything that is not a receipt", () => {
    const announcement = envelopeWith({ $case: "patientAnnouncement", value: bodies.patientAnnouncement });
    const [receipt] = bodies.receiptBatch.receipts;
    const mixed = envelopeWith({ $case: "receiptBatch", value: { receipts: [announcement, receipt!] } });
    expect(unbatch(mixed)).toEqual([receipt]);
  });

  it("hashes the encoded body alone, whatever the header", () => {
    const body: EnvelopeBody = { $case: "receipt", value: bodies.receipt };
    const expected = createHash("sha256").update(Receipt.encode(bodies.receipt).finish()).digest();
    const a = envelopeWith(body);
    const b = { ...envelopeWith(body), fromFacility: "elsewhere", purposeOfUse: PurposeOfUse.LEGAL };
    expect(bodyHash(a)).toEqual(expected);
    expect(bodyHash(b)).toEqual(expected);
    expect(a.contentHash).toEqual(expected);
    expect(a.contentHash).toHaveLength(32);
  });

  it("detects a body changed after hashing", () => {
    const envelope = envelopeWith({ $case: "receipt", value: bodies.receipt });
    const tampered: Envelope = {
      ...envelope,
      body: { $case: "receipt", value: { ...bodies.receipt, status: ReceiptStatus.DELIVERED } },
    };
    expect(hasValidBodyHash(envelope)).toBe(true);
    expect(hasValidBodyHash(tampered)).toBe(false);
  });

  it("checks the hash against the body's bytes as sent, and against the body encoded again", () => {
    const envelope = envelopeWith({ $case: "recordTransfer", value: bodies.recordTransfer });
    const encoded = encodeEnvelope(envelope);
    expect(hasValidBodyHash(decodeEnvelope(encoded), encoded)).toBe(true);

    // A sender whose encoder writes the body's fields in another order (allowed by protobuf):
    // the hash over its bytes holds; hix's re-encoding would differ.
    const body = RecordTransfer.encode(bodies.recordTransfer).finish();
    const reordered = fieldsReversed(body);
    expect(Buffer.from(reordered).equals(Buffer.from(body))).toBe(false);
    const header = Envelope.encode({ ...envelope, body: undefined, contentHash: sha256(reordered) }).finish();
    const sent = withTransferBody(header, reordered);
    const decoded = decodeEnvelope(sent);
    expect(decoded.body).toEqual(envelope.body);
    expect(hasValidBodyHash(decoded, sent)).toBe(true);
    expect(hasValidBodyHash(decoded)).toBe(false); // only the re-encoding: another hash

    // The header's hash made over hix's encoding passes with any byte order of the body.
    const hixHashed = Envelope.encode({ ...envelope, body: undefined }).finish();
    const sentHixHash = withTransferBody(hixHashed, reordered);
    expect(hasValidBodyHash(decodeEnvelope(sentHixHash), sentHixHash)).toBe(true);

    // A body altered in transit fails both ways.
    const altered = new Uint8Array(encoded);
    const last = altered.length - 1;
    altered[last] = altered[last]! ^ 1;
    expect(hasValidBodyHash(decodeEnvelope(altered), altered)).toBe(false);
  });

  it("fills id, created_at and correlation id in a new envelope", () => {
    const before = Date.now();
    const first = envelopeWith({ $case: "receipt", value: bodies.receipt });
    expect(isUlid(first.id)).toBe(true);
    expect(first.correlationId).toBe(first.id);
    expect(first.createdAt!.getTime()).toBeGreaterThanOrEqual(before);
    expect(first.createdAt!.getTime()).toBeLessThanOrEqual(Date.now());
    const reply = newEnvelope({
      fromFacility: "hosp-central",
      purposeOfUse: PurposeOfUse.TREATMENT,
      correlationId: first.correlationId,
      causationId: first.id,
      body: { $case: "receipt", value: bodies.receipt },
    });
    expect(reply.id > first.id).toBe(true);
    expect(reply.correlationId).toBe(first.id);
    expect(reply.causationId).toBe(first.id);
    expect(reply.toFacility).toBe("");
  });

  it("encodes each envelope alone: not after one that failed half-way, nor after a large one", () => {
    const fresh = (e: Envelope): Buffer => Buffer.from(Envelope.encode(e).finish()); // a writer of its own
    const small = envelopeWith({ $case: "receipt", value: bodies.receipt });
    // Not int32s: the writer throws mid-message, at the top level and inside the body's fork.
    const invalid = { ...small, purposeOfUse: 2 ** 40 };
    const invalidBody: Envelope = {
      ...small,
      body: { $case: "receipt", value: { ...bodies.receipt, status: 2 ** 40 } },
    };
    expect(() => encodeEnvelope(invalid)).toThrow();
    expect(() => encodeEnvelope(invalidBody)).toThrow();
    expect(() => bodyHash(invalidBody)).toThrow();
    const first = encodeEnvelope(small);
    expect(Buffer.from(first).equals(fresh(small))).toBe(true);
    expect(bodyHash(small)).toEqual(sha256(Receipt.encode(bodies.receipt).finish()));

    const large = envelopeWith({
      $case: "receipt",
      value: { ...bodies.receipt, reason: "x".repeat(200_000) },
    });
    const encodedLarge = encodeEnvelope(large);
    expect(encodedLarge.length).toBeGreaterThan(200_000);
    expect(Buffer.from(encodedLarge).equals(fresh(large))).toBe(true);
    expect(Buffer.from(encodeEnvelope(small)).equals(fresh(small))).toBe(true);
    // Each result is bytes of its own, not a view of the writer that later encodes overwrite.
    expect(Buffer.from(first).equals(fresh(small))).toBe(true);
    expect(Buffer.from(encodedLarge).equals(fresh(large))).toBe(true);
  });

  it("refuses to hash an envelope without a body", () => {
    const empty = Envelope.fromPartial({ id: "x" });
    expect(() => bodyHash(empty)).toThrow(EnvelopeBodyMissingError);
    expect(envelopeKind(empty)).toBeUndefined();
    expect(hasValidBodyHash(empty)).toBe(false);
  });
});

describe("decodeEnvelope on bad input", () => {
  // Small deterministic PRNG (mulberry32) so a failure reproduces.
  function prng(seed: number): () => number {
    return () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  it("throws ProtoDecodeError with code proto.decode for 2000 random byte strings", () => {
    const random = prng(42);
    for (let i = 0; i < 2000; i++) {
      const bytes = Uint8Array.from({ length: 1 + Math.floor(random() * 300) }, () =>
        Math.floor(random() * 256),
      );
      let thrown: unknown;
      try {
        decodeEnvelope(bytes);
      } catch (err) {
        thrown = err;
      }
      expect(thrown, `sample ${i}`).toBeInstanceOf(ProtoDecodeError);
      expect((thrown as ProtoDecodeError).code).toBe("proto.decode");
      expect((thrown as ProtoDecodeError).retryable).toBe(false);
    }
  });

  it("names sizes, not payload, when a real envelope is cut short anywhere", () => {
    const bytes = encodeEnvelope(envelopeWith({ $case: "recordRequest", value: bodies.recordRequest }));
    const asText = Buffer.from(bytes).toString("latin1");
    expect(asText).toContain(MARKER);
    for (let end = 0; end < bytes.length; end++) {
      let thrown: unknown;
      try {
        decodeEnvelope(bytes.subarray(0, end));
      } catch (err) {
        thrown = err;
      }
      expect(thrown, `cut at ${end}`).toBeInstanceOf(ProtoDecodeError);
      const message = (thrown as Error).message;
      expect(message).toContain(`${end} bytes`);
      expect(message).not.toContain(MARKER);
      expect(message).not.toContain("MRN-000123");
    }
  });
});

/** An encoded envelope header followed by a record_transfer body field (21) holding `body`. */
function withTransferBody(header: Uint8Array, body: Uint8Array): Uint8Array {
  return new Uint8Array([...header, ...varint((21 << 3) | 2), ...varint(body.length), ...body]);
}

function sha256(bytes: Uint8Array): Buffer {
  return createHash("sha256").update(bytes).digest();
}

function varint(n: number): number[] {
  const out: number[] = [];
  for (; n > 0x7f; n >>>= 7) out.push((n & 0x7f) | 0x80);
  out.push(n);
  return out;
}

/** The top-level fields of an encoded message, last first (each field's bytes unchanged). */
function fieldsReversed(message: Uint8Array): Uint8Array {
  const reader = new BinaryReader(message);
  const fields: Uint8Array[] = [];
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const [fieldNo, wireType] = reader.tag();
    reader.skip(wireType, fieldNo);
    fields.push(message.subarray(start, reader.pos));
  }
  return new Uint8Array(fields.reverse().flatMap((f) => [...f]));
}
