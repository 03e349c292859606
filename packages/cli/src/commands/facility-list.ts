import { parseArgs } from "node:util";
import { Facility, FacilityStatus, dataFormatToJSON } from "@hix/proto";
import { listFacilities } from "@hix/router";
import { EXIT, type Command } from "../command.js";
import { DATABASE_OPTIONS, DATABASE_OPTIONS_HELP, openDatabase } from "./facility-database.js";

export const facilityList: Command = {
  path: ["facility", "list"],
  summary: "list the facilities in the directory",
  help: `usage: hix facility list [--json]

Lists every facility: id, status, formats and name.

options:
  --json               one JSON object (proto3 JSON of hix.v1.Facility) per line
${DATABASE_OPTIONS_HELP}`,
  async run(args, io) {
    const { values } = parseArgs({
      args: [...args],
      options: { ...DATABASE_OPTIONS, json: { type: "boolean" } },
    });
    const pool = await openDatabase(values, io);
    try {
      const facilities = await listFacilities(pool);
      if (values.json === true) {
        for (const f of facilities) io.stdout.write(`${JSON.stringify(Facility.toJSON(f))}\n`);
      } else if (facilities.length === 0) {
        io.stdout.write("no facilities\n");
      } else {
        io.stdout.write("ID                    STATUS     FORMATS               NAME\n");
        for (const f of facilities) {
          const status = f.status === FacilityStatus.ACTIVE ? "active" : "suspended";
          const formats = f.formats
            .map((x) => dataFormatToJSON(x).replace("DATA_FORMAT_", "").toLowerCase())
            .join(",");
          io.stdout.write(
            `${f.id.padEnd(21)} ${status.padEnd(10)} ${(formats || "-").padEnd(21)} ${f.name}\n`,
          );
        }
      }
      return EXIT.ok;
    } finally {
      await pool.end();
    }
  },
};
