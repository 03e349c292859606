// `hix adapter new|test` run as child processes: a scaffold passes as created, a broken one fails.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const HIX = fileURLToPath(new URL("../../bin/hix.js", import.meta.url));
const REPO = fileURLToPath(new URL("../../../../", import.meta.url));
const hix = (args: string[]) =>
  spawnSync(process.execPath, [HIX, ...args], { encoding: "utf8", timeout: 60_000 });
const tmp = mkdtempSync(join(tmpdir(), "hix-adapter-cli-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("hix adapter", { timeout: 60_000 }, () => {
  it("scaffolds an adapter that passes the conformance suite, and fails it once a fixture is broken", () => {
    const dir = join(tmp, "clinic-x");
    const created = hix(["adapter", "new", "clinic-x", "--dir", dir]);
    expect(created.status, created.stderr).toBe(0);
    const passed = hix(["adapter", "test", dir]);
    expect(passed.status, passed.stdout).toBe(0);
    expect(passed.stdout).toMatch(/^ok {3}ack {8}adt-a04\.hl7/m);
    expect(passed.stdout).toMatch(/^ok {3}duplicate/m);
    expect(passed.stdout).toMatch(/0 failed/);

    writeFileSync(
      join(dir, "fixtures", "broken.hl7"),
      "MSH|^~\\&|A|B|C|D|2024||ADT^A04|9|P|2.5\rPID|1||1^^^H^MR||X^Y||19991340\r",
    );
    const failed = hix(["adapter", "test", dir]);
    expect(failed.status).toBe(1);
    expect(failed.stdout).toMatch(/^FAIL convert {4}broken\.hl7 — hl7\.\w+: PID-7/m);
  });

  it("refuses to scaffold into a folder that has files", () => {
    const r = hix(["adapter", "new", "again", "--dir", join(tmp, "clinic-x")]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  it.each(["hospital-hl7v2", "clinic-fhir", "practice-csv-ccda"])(
    "sample facility %s passes the conformance suite",
    (name) => {
      const r = hix(["adapter", "test", join(REPO, "deploy", "facilities", name)]);
      expect(r.status, r.stdout).toBe(0);
    },
  );
});
