import { parseArgs } from "node:util";
import { Facility } from "@hix/proto";
import { getFacility } from "@hix/router";
import { EXIT, UsageError, type Command } from "../command.js";
import { DATABASE_OPTIONS, DATABASE_OPTIONS_HELP, openDatabase } from "./facility-database.js";

export const facilityShow: Command = {
  path: ["facility", "show"],
  summary: "show one facility's directory entry (contact, formats, key, disclosure policy)",
  help: `usage: hix facility show ID

Prints the facility's entry as proto3 JSON (hix.v1.Facility). Exit 1 when there is none.

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
      const facility = await getFacility(pool, id);
      if (facility === undefined) {
        io.stderr.write(`hix facility show: no facility ${id} in the directory\n`);
        return EXIT.failed;
      }
      io.stdout.write(`${JSON.stringify(Facility.toJSON(facility), null, 2)}\n`);
      return EXIT.ok;
    } finally {
      await pool.end();
    }
  },
};
