import { parseArgs } from "node:util";
import { requestStatus } from "@hix/router";
import { EXIT, UsageError, type Command } from "../command.js";
import { DATABASE_OPTIONS, DATABASE_OPTIONS_HELP, openDatabase } from "./facility-database.js";

export const requestStatusCommand: Command = {
  path: ["request", "status"],
  summary: "where a record request stands: each holder's answer, or pending / expired",
  help: `usage: hix request status ENVELOPE_ID [--json]

Shows a tracked RecordRequest: its requester, deadline and state (open, complete, expired),
and per holder: pending, records, no_match, denied or expired, with the answering message id.
Exit 1 when the request is not tracked (never routed, or refused).

options:
  --json               the status as one JSON object
${DATABASE_OPTIONS_HELP}`,
  async run(args, io) {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: { ...DATABASE_OPTIONS, json: { type: "boolean" } },
    });
    const id = positionals[0];
    if (id === undefined || positionals.length > 1)
      throw new UsageError("give exactly one request (envelope) id");
    const pool = await openDatabase(values, io);
    try {
      const status = await requestStatus(pool, id);
      if (status === undefined) {
        io.stderr.write(`hix request status: request ${id} is not tracked\n`);
        return EXIT.failed;
      }
      if (values.json === true) {
        io.stdout.write(`${JSON.stringify(status)}\n`);
        return EXIT.ok;
      }
      io.stdout.write(
        `request ${status.envelopeId} from ${status.requester}: ${status.status}\n` +
          `  created ${status.createdAt.toISOString()}, deadline ${status.deadline.toISOString()}` +
          `${status.closedAt === null ? "" : `, closed ${status.closedAt.toISOString()}`}\n`,
      );
      for (const h of status.holders) {
        io.stdout.write(
          `  ${h.holder.padEnd(21)} ${h.state.padEnd(9)} ${h.updatedAt.toISOString()}${h.answerEnvelopeId === null ? "" : `  answer ${h.answerEnvelopeId}`}\n`,
        );
      }
      return EXIT.ok;
    } finally {
      await pool.end();
    }
  },
};
