import { parseArgs } from "node:util";
import { auditRowToJson, searchLedger } from "@hix/router";
import { EXIT, UsageError, type Command } from "../command.js";
import { DATABASE_OPTIONS, DATABASE_OPTIONS_HELP, openDatabase } from "./facility-database.js";

export const auditSearch: Command = {
  path: ["audit", "search"],
  summary: "search the audit ledger by facility, patient hash, message and time",
  help: `usage: hix audit search [--facility ID] [--patient-hash HEX] [--since ISO] [--message ID] [--limit N]

Prints matching ledger rows, oldest first, one JSON object per line: seq, time, envelope and
correlation id, sender, receiver, kind, purpose, outcome, code, patient reference hash,
content hash, sensitivity. The ledger holds no patient identifiers: a patient is found by the
keyed hash of (source facility, local patient id) — HMAC-SHA256 under HIX_AUDIT_PATIENT_KEY.

options:
  --facility ID        rows where the facility sent or received
  --patient-hash HEX   rows about this patient reference hash (64 hex digits)
  --since ISO          rows at or after this instant, e.g. 2026-01-31 or 2026-01-31T08:00:00Z
  --message ID         rows about this envelope id or correlation id
  --limit N            at most N rows (default 100)
${DATABASE_OPTIONS_HELP}`,
  async run(args, io) {
    const { values } = parseArgs({
      args: [...args],
      options: {
        ...DATABASE_OPTIONS,
        facility: { type: "string" },
        "patient-hash": { type: "string" },
        since: { type: "string" },
        message: { type: "string" },
        limit: { type: "string" },
      },
    });
    const hash = values["patient-hash"];
    if (hash !== undefined && !/^[0-9a-fA-F]{64}$/.test(hash))
      throw new UsageError("--patient-hash must be 64 hex digits");
    const since = values.since === undefined ? undefined : new Date(values.since);
    if (since !== undefined && Number.isNaN(since.getTime()))
      throw new UsageError("--since must be an ISO 8601 date or instant");
    const limit = values.limit === undefined ? 100 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new UsageError("--limit must be a positive integer");
    const pool = await openDatabase(values, io);
    try {
      const rows = await searchLedger(pool, {
        ...(values.facility === undefined ? {} : { facility: values.facility }),
        ...(hash === undefined ? {} : { patientHash: Buffer.from(hash, "hex") }),
        ...(since === undefined ? {} : { since }),
        ...(values.message === undefined ? {} : { envelopeId: values.message }),
        limit,
      });
      for (const row of rows) io.stdout.write(`${JSON.stringify(auditRowToJson(row))}\n`);
      if (rows.length === 0) io.stderr.write("no matching rows\n");
      return EXIT.ok;
    } finally {
      await pool.end();
    }
  },
};
