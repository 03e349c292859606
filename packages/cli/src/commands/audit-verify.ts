import { parseArgs } from "node:util";
import { verifyLedger } from "@hix/router";
import { EXIT, type Command } from "../command.js";
import { DATABASE_OPTIONS, DATABASE_OPTIONS_HELP, openDatabase } from "./facility-database.js";

export const auditVerify: Command = {
  path: ["audit", "verify"],
  summary: "recompute the audit ledger's hash chain; exit 1 naming the first row that was altered",
  help: `usage: hix audit verify

Walks the audit ledger in order and recomputes every row's hash from its content and the row
before it. Prints "ok: N rows" and exits 0, or names the first broken row (seq and id) and
what is wrong with it — edited, removed or reordered rows, or rows cut from the end — and
exits 1.

options:
${DATABASE_OPTIONS_HELP}`,
  async run(args, io) {
    const { values } = parseArgs({ args: [...args], options: DATABASE_OPTIONS });
    const pool = await openDatabase(values, io);
    try {
      const result = await verifyLedger(pool);
      if (result.ok) {
        io.stdout.write(`ok: ${result.rows} rows, hash chain intact\n`);
        return EXIT.ok;
      }
      const b = result.broken!;
      io.stdout.write(
        `broken at row ${b.seq}${b.id === "" ? "" : ` (id ${b.id})`}: ${b.problem}; ${result.rows} rows before it verified\n`,
      );
      return EXIT.failed;
    } finally {
      await pool.end();
    }
  },
};
