import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { runConformance, scaffoldAdapter } from "@hix/adapter-kit";
import { EXIT, UsageError, type Command } from "../command.js";

export const adapterNew: Command = {
  path: ["adapter", "new"],
  summary: "scaffold a facility adapter: profile, hooks, fixtures and a conformance test",
  help: `usage: hix adapter new <name> [--dir DIR]

Creates DIR (default ./<name>) with profile.json (facility id <name>), hooks.mjs, synthetic
fixtures (HL7 v2 ADT^A04 and ORU^R01, a FHIR Bundle), a malformed example, and
conformance.test.mjs. The new folder passes 'hix adapter test' as created; then replace the
fixtures with the facility's own (de-identified) messages and edit the profile.`,
  async run(args, io) {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: { dir: { type: "string" } },
    });
    const name = positionals[0];
    if (name === undefined || positionals.length > 1) throw new UsageError("give one adapter name");
    const dir = resolve(io.cwd, values.dir ?? name);
    try {
      const files = await scaffoldAdapter(dir, name);
      io.stdout.write(
        `created ${dir}\n${files.map((f) => `  ${f}`).join("\n")}\nnext: hix adapter test ${dir}\n`,
      );
      return EXIT.ok;
    } catch (err) {
      if (err instanceof Error && "code" in err && String(err.code).startsWith("adapter."))
        throw new UsageError(err.message);
      throw err;
    }
  },
};

export const adapterTest: Command = {
  path: ["adapter", "test"],
  summary: "run the conformance suite on an adapter folder",
  help: `usage: hix adapter test <dir> [--json]

Checks an adapter folder (profile.json, fixtures/, fixtures/malformed/): the profile is valid;
every fixture converts and round-trips (canonical → FHIR → canonical, HL7 v2 → HL7 v2);
malformed inputs are refused with a code and a location; over MLLP on loopback every HL7 v2
fixture gets an AA naming its MSH-10 and malformed ones AE/AR with ERR; resending a fixture
stores nothing new. Runs offline. Exit 0 when every check passes, 1 otherwise.`,
  async run(args, io) {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: { json: { type: "boolean" } },
    });
    if (positionals.length !== 1) throw new UsageError("give the adapter folder");
    const report = await runConformance(resolve(io.cwd, positionals[0]!));
    for (const r of report.results) {
      io.stdout.write(
        values.json === true
          ? `${JSON.stringify(r)}\n`
          : `${r.ok ? "ok  " : "FAIL"} ${r.check.padEnd(10)} ${r.subject} — ${r.detail}\n`,
      );
    }
    const failed = report.results.filter((r) => !r.ok).length;
    if (values.json !== true) io.stdout.write(`${report.results.length - failed} passed, ${failed} failed\n`);
    return report.ok ? EXIT.ok : EXIT.failed;
  },
};
