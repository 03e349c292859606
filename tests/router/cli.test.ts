// The operator's side of the router, through the real `hix` binary: directory management,
// request status, and `hix audit verify` catching an edited ledger row.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GENESIS_HASH, rowHash } from "@hix/router";
import { createTestDatabase, type TestDatabase } from "@hix/testkit";

const HIX = fileURLToPath(new URL("../../packages/cli/bin/hix.js", import.meta.url));

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase("cli_router");
});
afterAll(async () => {
  await db.drop();
});

function hix(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [HIX, ...args], {
      env: { ...process.env, HIX_DATABASE_URL: db.url },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe("hix facility | request | audit", () => {
  it("adds, lists, shows, suspends and re-activates facilities", async () => {
    const add = await hix(
      "facility",
      "add",
      "clinic-north",
      "--name",
      "North Valley Clinic",
      "--format",
      "hl7v2,fhir_r4",
      "--policy",
      "treatment=auto,research=refuse",
      "--contact-email",
      "him@nv.example",
    );
    expect(add).toMatchObject({ code: 0, stdout: "facility clinic-north saved (active)\n" });
    expect((await hix("facility", "add", "hospital-a", "--name", "Alpha General")).code).toBe(0);

    const list = await hix("facility", "list");
    expect(list.stdout).toMatch(/clinic-north\s+active\s+hl7v2,fhir_r4\s+North Valley Clinic/);
    expect(list.stdout).toMatch(/hospital-a\s+active/);

    expect((await hix("facility", "suspend", "clinic-north")).stdout).toBe(
      "facility clinic-north is suspended\n",
    );
    const shown = JSON.parse((await hix("facility", "show", "clinic-north")).stdout) as Record<
      string,
      unknown
    >;
    expect(shown).toMatchObject({
      id: "clinic-north",
      status: "FACILITY_STATUS_SUSPENDED",
      formats: ["DATA_FORMAT_HL7V2", "DATA_FORMAT_FHIR_R4"],
      disclosurePolicy: {
        rules: [
          { purpose: "PURPOSE_OF_USE_TREATMENT", action: "DISCLOSURE_ACTION_AUTO_ANSWER" },
          { purpose: "PURPOSE_OF_USE_RESEARCH", action: "DISCLOSURE_ACTION_REFUSE" },
        ],
      },
    });
    expect((await hix("facility", "activate", "clinic-north")).code).toBe(0);

    expect((await hix("facility", "suspend", "nowhere")).code).toBe(1);
    expect((await hix("facility", "add", "Bad.Id", "--name", "x")).code).toBe(2);
    expect((await hix("facility", "add", "ok-id", "--name", "x", "--policy", "treatment=maybe")).code).toBe(
      2,
    );
    expect((await hix("request", "status", "01J00000000000000000000000")).code).toBe(1);
  });

  it("verifies the audit chain and names the row an edit broke", async () => {
    expect(await hix("audit", "verify")).toMatchObject({
      code: 0,
      stdout: "ok: 0 rows, hash chain intact\n",
    });
    const sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    try {
      // Two rows chained by the router's own rule (what its ledger appends).
      let prev = GENESIS_HASH;
      for (let seq = 1; seq <= 2; seq++) {
        const row = {
          seq,
          id: `01J000000000000000000000R${seq}`,
          occurredAt: new Date(`2026-03-0${seq}T10:00:00Z`),
          envelopeId: `01J000000000000000000000E${seq}`,
          correlationId: `01J000000000000000000000E${seq}`,
          sender: "hospital-a",
          receiver: "clinic-north",
          kind: "record_request",
          purpose: "PURPOSE_OF_USE_TREATMENT",
          outcome: "disclosed" as const,
          code: "",
          patientRefHash: null,
          contentHash: null,
          sensitivity: [],
        };
        const hash = rowHash(prev, row);
        await sql.query(
          `INSERT INTO audit_ledger (seq, id, occurred_at, envelope_id, correlation_id, sender, receiver, kind, purpose, outcome, code, prev_hash, row_hash)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)`,
          [
            row.seq,
            row.id,
            row.occurredAt,
            row.envelopeId,
            row.correlationId,
            row.sender,
            row.receiver,
            row.kind,
            row.purpose,
            row.outcome,
            row.code,
            prev,
            hash,
          ],
        );
        await sql.query("UPDATE audit_chain_head SET last_seq = $1, last_hash = $2", [seq, hash]);
        prev = hash;
      }
      expect(await hix("audit", "verify")).toMatchObject({
        code: 0,
        stdout: "ok: 2 rows, hash chain intact\n",
      });
      const found = (
        await hix("audit", "search", "--facility", "clinic-north", "--since", "2026-03-02")
      ).stdout
        .trim()
        .split("\n");
      expect(found.map((l) => (JSON.parse(l) as { seq: number }).seq)).toEqual([2]);

      await sql.query("ALTER TABLE audit_ledger DISABLE TRIGGER audit_ledger_no_update");
      await sql.query("UPDATE audit_ledger SET purpose = 'PURPOSE_OF_USE_RESEARCH' WHERE seq = 2");
      const broken = await hix("audit", "verify");
      expect(broken.code).toBe(1);
      expect(broken.stdout).toMatch(
        /^broken at row 2 \(id 01J000000000000000000000R2\): content does not match row_hash/,
      );
    } finally {
      await sql.end();
    }
  });
});
