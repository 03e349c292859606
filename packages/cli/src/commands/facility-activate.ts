import { parseArgs } from "node:util";
import { setFacilityStatus } from "@hix/router";
import { EXIT, UsageError, type Command } from "../command.js";
import { DATABASE_OPTIONS, DATABASE_OPTIONS_HELP, openDatabase } from "./facility-database.js";

export const facilityActivate: Command = {
  path: ["facility", "activate"],
  summary: "make a suspended facility active again",
  help: `usage: hix facility activate ID

Sets the facility's status to active. Running routers see it at once (LISTEN/NOTIFY),
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
      if (!(await setFacilityStatus(pool, id, "active"))) {
        io.stderr.write(`hix facility activate: no facility ${id} in the directory\n`);
        return EXIT.failed;
      }
      io.stdout.write(`facility ${id} is active\n`);
      return EXIT.ok;
    } finally {
      await pool.end();
    }
  },
};
