// hix demo and hix up, run as a user would: child processes against the real NATS and PostgreSQL.
import { once } from "node:events";
import { mkdtempSync, writeFileSync, cpSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createTestDatabase, natsUrl, uniqueName } from "@hix/testkit";
import { REPO_ROOT } from "../stack/paths.js";
import { runHix, startHix } from "../test-support/run-hix.js";

describe("hix demo", () => {
  it("plays every flow to a green summary and exits 0", async () => {
    const r = await runHix(["demo"], { env: { HIX_NATS_URL: await natsUrl() } });
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/steps\s+10\/10 happened/);
    expect(r.stdout).toMatch(/records from the clinic \(\d+ entries\) and the practice \(\d+\) delivered/);
    expect(r.stdout).toMatch(/hash chain intact/);
    expect(r.code).toBe(0);
  }, 240_000);
});

describe("hix up", () => {
  it("brings the exchange up from an exchange file and stops it cleanly on Ctrl-C", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hix-up-"));
    cpSync(join(REPO_ROOT, "deploy", "facilities", "clinic-fhir"), join(dir, "clinic"), { recursive: true });
    // A profile that needs no fixed ports or system folders.
    writeFileSync(
      join(dir, "clinic", "profile.json"),
      JSON.stringify({
        id: "clinic",
        name: "Test Clinic",
        inbound: { inbox: { dir: "inbox", format: "fhir" } },
        outbound: { format: "fhir", destination: { kind: "folder", dir: "outbox" } },
        quarantineDir: "quarantine",
      }),
    );
    const prefix = uniqueName("up").toLowerCase();
    const db = await createTestDatabase();
    writeFileSync(
      join(dir, "exchange.json"),
      JSON.stringify({
        natsUrl: await natsUrl(),
        databaseUrl: db.url,
        topologyPrefix: prefix,
        auditPatientKey: "test-only-key-0123456789",
        facilities: [
          { id: "clinic", name: "Test Clinic", profile: "clinic/profile.json", formats: ["fhir_r4"] },
        ],
      }),
    );
    const up = startHix(["up", "--config", join(dir, "exchange.json")]);
    const deadline = Date.now() + 120_000;
    while (!up.output().includes("exchange up")) {
      if (up.child.exitCode !== null || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(up.output()).toMatch(/router started/);
    expect(up.output()).toMatch(/reconciler started/);
    expect(up.output()).toMatch(/adapter:clinic started/);
    expect(up.output()).toMatch(/exchange up: 3 services/);
    up.child.kill("SIGINT");
    await once(up.child, "exit");
    expect(up.output()).toMatch(/stopped/);
    expect(up.child.exitCode).toBe(0);
    await db.drop();
  }, 180_000);

  it("says what is wrong with a bad exchange file, in one line, with exit 2", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hix-up-"));
    writeFileSync(join(dir, "exchange.json"), JSON.stringify({ facilities: [] }));
    const r = await runHix(["up", "--config", join(dir, "exchange.json")]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/auditPatientKey/);
  });
});
