import { describe, expect, it } from "vitest";
import { HixError } from "@hix/runtime";
import { ConversionError } from "@hix/proto";
import { outcomeFromError } from "./outcome.js";

describe("outcomeFromError", () => {
  it("keeps our own errors' code and message, and their retryable flag", () => {
    expect(outcomeFromError(new HixError("x.down", "downstream down", { retryable: true }))).toEqual({
      kind: "retry",
      code: "x.down",
      reason: "downstream down",
    });
    expect(outcomeFromError(new ConversionError("hl7.bad_date", "PID-7", "impossible month"))).toEqual({
      kind: "reject",
      code: "hl7.bad_date",
      reason: "PID-7: impossible month",
    });
  });

  it("never passes on a foreign error's message, which may quote data", () => {
    const pgError = Object.assign(new Error("Key (mrn)=(MRN-4471) already exists"), { code: "23505" });
    expect(outcomeFromError(pgError)).toEqual({ kind: "retry", code: "23505", reason: "unexpected Error" });
  });
});
