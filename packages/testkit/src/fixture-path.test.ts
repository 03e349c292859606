import { existsSync } from "node:fs";
import { isAbsolute } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { fixturePath } from "./fixture-path.js";

describe("fixturePath", () => {
  const saved = process.env["HIX_SHARED_DATA"];
  afterEach(() => {
    if (saved === undefined) delete process.env["HIX_SHARED_DATA"];
    else process.env["HIX_SHARED_DATA"] = saved;
  });

  it("points into the shared sample data beside the repository", () => {
    const path = fixturePath("INDEX.md");
    expect(isAbsolute(path)).toBe(true);
    expect(existsSync(path)).toBe(true);
  });

  it("follows HIX_SHARED_DATA", () => {
    process.env["HIX_SHARED_DATA"] = "/tmp";
    expect(fixturePath("a", "b.txt")).toBe("/tmp/a/b.txt");
  });

  it("says how to fix a missing data dir", () => {
    process.env["HIX_SHARED_DATA"] = "/nonexistent/hix-shared-data";
    expect(() => fixturePath("x")).toThrow(/HIX_SHARED_DATA/);
  });
});
