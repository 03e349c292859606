import { parseArgs } from "node:util";
import { setFacilityStatus } from "@hix/router";
import { EXIT, UsageError, type Command } from "../command.js";
import { DATABASE_OPTIONS, DATABASE_OPTIONS_HELP, openDatabase } from "./facility-database.js";

export const facilitySuspend: Command = {
  path: ["facility", "suspend"],
  summary: "suspend a facility: the router refuses its messages and sends it nothing",
  help: `usage: hix facility suspend ID

Sets the facility's status to suspended. Running routers see it at once (LISTEN/NOTIFY),
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
      if (!(await setFacilityStatus(pool, id, "suspended"))) {
        io.stderr.write(`hix facility suspend: no facility ${id} in the directory\n`);
        return EXIT.failed;
      }
      io.stdout.write(`facility ${id} is suspended\n`);
      return EXIT.ok;
    } finally {
      await pool.end();
    }
  },
};
