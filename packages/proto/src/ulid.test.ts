import { describe, expect, it } from "vitest";
import { isUlid, newId, ulidGenerator, ulidTime } from "./ulid.js";

describe("ulid", () => {
  it("keeps 10k ids made in one millisecond unique and in creation order", () => {
    const next = ulidGenerator(() => 1_700_000_000_000);
    const ids = Array.from({ length: 10_000 }, () => next());
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 1; i < ids.length; i++) expect(ids[i - 1]! < ids[i]!).toBe(true);
    expect(new Set(ids.map((id) => id.slice(0, 10))).size).toBe(1);
    expect(ids.every((id) => ulidTime(id) === 1_700_000_000_000)).toBe(true);
  });

  it("sorts ids from the real clock in creation order", () => {
    const ids = Array.from({ length: 10_000 }, () => newId());
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every(isUlid)).toBe(true);
  });

  it("keeps order when the clock steps back", () => {
    const times = [5_000, 5_000, 4_000, 6_000];
    const next = ulidGenerator(() => times.shift()!);
    const ids = [next(), next(), next(), next()];
    expect([...ids].sort()).toEqual(ids);
    expect(ids.map(ulidTime)).toEqual([5_000, 5_000, 5_000, 6_000]);
  });

  it.each([
    // Spec examples: https://github.com/ulid/spec (time component and its maximum).
    [1469918176385, "01ARYZ6S41"],
    [0, "0000000000"],
    [2 ** 48 - 1, "7ZZZZZZZZZ"],
  ])("encodes time %d as %s in 10 Crockford base32 characters", (time, prefix) => {
    const id = ulidGenerator(() => time)();
    expect(id).toHaveLength(26);
    expect(id.slice(0, 10)).toBe(prefix);
    expect(ulidTime(id)).toBe(time);
  });

  it("refuses clock values outside 48 bits", () => {
    expect(() => ulidGenerator(() => 2 ** 48)()).toThrow(RangeError);
    expect(() => ulidGenerator(() => -1)()).toThrow(RangeError);
  });

  it("draws fresh randomness for each new millisecond", () => {
    let t = 1_000;
    const next = ulidGenerator(() => t++);
    const randoms = Array.from({ length: 100 }, () => next().slice(10));
    expect(new Set(randoms).size).toBe(100);
  });

  it("carries from the lower to the upper random half, and past the last value to the next millisecond", () => {
    const bytes = (hex: string) => (): Uint8Array => Buffer.from(hex, "hex");
    const carry = ulidGenerator(() => 7_000, bytes("0000000000ffffffffff"));
    const [a, b] = [carry(), carry()];
    expect(a.slice(10)).toBe("0000000" + "0" + "ZZZZZZZZ");
    expect(b.slice(10)).toBe("00000001" + "00000000");
    const full = ulidGenerator(() => 7_000, bytes("ffffffffffffffffffff"));
    const [c, d] = [full(), full()];
    expect(c.slice(10)).toBe("Z".repeat(16));
    expect(ulidTime(d)).toBe(7_001);
    expect(c < d).toBe(true);
  });
});
