import { describe, expect, it } from "vitest";
import { GENESIS_HASH, canonical, ledgerText, patientRefHash, rowHash } from "./audit-ledger.js";

const row = {
  seq: 1,
  id: "01J0000000000000000000000A",
  occurredAt: new Date("2026-03-01T12:00:00.123Z"),
  envelopeId: "01J0000000000000000000000B",
  correlationId: "01J0000000000000000000000B",
  sender: "hospital-a",
  receiver: "clinic-b",
  kind: "record_request",
  purpose: "PURPOSE_OF_USE_TREATMENT",
  outcome: "disclosed" as const,
  code: "",
  patientRefHash: Buffer.alloc(32, 1),
  contentHash: Buffer.alloc(32, 2),
  sensitivity: [],
};

describe("audit ledger hashing", () => {
  it("changes the row hash when any field or the previous hash changes", () => {
    const base = rowHash(GENESIS_HASH, row);
    expect(base).toHaveLength(32);
    const edits = [
      { ...row, receiver: "clinic-c" },
      { ...row, outcome: "denied" as const },
      { ...row, occurredAt: new Date(row.occurredAt.getTime() + 1) },
      { ...row, seq: 2 },
      { ...row, contentHash: null },
    ];
    for (const edited of edits) expect(rowHash(GENESIS_HASH, edited).equals(base)).toBe(false);
    expect(rowHash(Buffer.alloc(32, 9), row).equals(base)).toBe(false);
    expect(rowHash(GENESIS_HASH, { ...row }).equals(base)).toBe(true);
  });

  it("keeps identifiers out of the canonical form: the patient is a keyed hash", () => {
    const hash = patientRefHash("key-0123456789abcdef", "hospital-a", "MRN-1001");
    expect(hash).toHaveLength(32);
    expect(canonical({ ...row, patientRefHash: hash })).not.toContain("MRN-1001");
    expect(patientRefHash("another-key-0123456789", "hospital-a", "MRN-1001").equals(hash)).toBe(false);
    // The separator keeps ("a", "bc") and ("ab", "c") apart.
    expect(patientRefHash("k".repeat(16), "a", "bc").equals(patientRefHash("k".repeat(16), "ab", "c"))).toBe(
      false,
    );
  });

  it("keeps short printable ids as they are and replaces anything else by a digest of it", () => {
    expect(ledgerText("01J0000000000000000000000B")).toBe("01J0000000000000000000000B");
    expect(ledgerText("clinic-b")).toBe("clinic-b");
    expect(ledgerText("")).toBe("");
    for (const unfit of ["a\u0000b", "x".repeat(129), "two words", "MRN-1\nJane Doe", "é"]) {
      const kept = ledgerText(unfit);
      expect(kept).toMatch(/^#[0-9a-f]{32}$/);
      expect(ledgerText(unfit)).toBe(kept); // the same on a redelivery
    }
    expect(ledgerText("x".repeat(129))).not.toBe(ledgerText("x".repeat(130)));
  });
});
