import { describe, expect, it } from "vitest";
import { uniqueName } from "./unique-name.js";

describe("uniqueName", () => {
  it.each([
    ["router", /^HIX_T_router_[0-9a-f]{12}$/],
    ["in.flight>*", /^HIX_T_in_flight___[0-9a-f]{12}$/],
    ["", /^HIX_T_x_[0-9a-f]{12}$/],
  ])("makes %j into a name of [A-Za-z0-9_] only", (prefix, pattern) => {
    expect(uniqueName(prefix)).toMatch(pattern);
  });

  it("stays within PostgreSQL's 63-byte identifier limit for long prefixes", () => {
    expect(uniqueName("p".repeat(200)).length).toBeLessThanOrEqual(63);
  });

  it("does not repeat across many calls", () => {
    const names = new Set(Array.from({ length: 1000 }, () => uniqueName("s")));
    expect(names.size).toBe(1000);
  });
});
