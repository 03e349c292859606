import { parseArgs } from "node:util";
import { setFacilityStatus } from "@hix/router";
import { EXIT, UsageError, type Command } from "../command.js";
import { DATABASE_OPTIONS, DATABASE_OPTIONS_HELP, openDatabase } from "./facility-database.js";

/** `hix facility suspend` and `hix facility activate`: the same change of one status field. */
function facilityStatusCommand(
  verb: "suspend" | "activate",
  status: "suspended" | "active",
  summary: string,
): Command {
  return {
    path: ["facility", verb],
    summary,
    help: `usage: hix facility ${verb} ID

Sets the facility's status to ${status}. Running routers see it at once (LISTEN/NOTIFY),
or within their directory refresh interval at worst. Exit 1 when there is no such facility.

options:
${DATABASE_OPTIONS_HELP}`,
    async run(args, io) {
      const { values, positionals } = parseArgs({
        args: [...args],
        allowPositionals: true,
        options: DATABASE_OPTIONS,
      });
      const id = positionals[0];
      if (id === undefined || positionals.length > 1) throw new UsageError("give exactly one facility id");
      const pool = await openDatabase(values, io);
      try {
        if (!(await setFacilityStatus(pool, id, status))) {
          io.stderr.write(`hix facility ${verb}: no facility ${id} in the directory\n`);
          return EXIT.failed;
        }
        io.stdout.write(`facility ${id} is ${status}\n`);
        return EXIT.ok;
      } finally {
        await pool.end();
      }
    },
  };
}

export const facilitySuspend = facilityStatusCommand(
  "suspend",
  "suspended",
  "suspend a facility: the router refuses its messages and sends it nothing",
);
export const facilityActivate = facilityStatusCommand(
  "activate",
  "active",
  "make a suspended facility active again",
);
