import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  INBOUND_FORMATS,
  bodyToJson,
  convertInbound,
  loadHooks,
  loadProfile,
  parseProfile,
  renderOutbound,
  type FacilityProfile,
  type Hooks,
  type InboundFormat,
} from "@hix/adapter-kit";
import { CANONICAL_CSV_MAPPING } from "@hix/csv";
import { EXIT, UsageError, type Command, type CommandIo } from "../command.js";

const TARGETS = ["canonical", "fhir", "hl7v2"] as const;

export const convert: Command = {
  path: ["convert"],
  summary: "convert a local message or document to canonical, FHIR R4 or HL7 v2",
  help: `usage: hix convert --from hl7v2|fhir|ccda|csv --to canonical|fhir|hl7v2 [--profile P] FILE|-

Reads FILE (or stdin for -), converts it with the codec for --from, and prints the result
on stdout:
  --to canonical   the hix envelope bodies as proto3 JSON (an array)
  --to fhir        one FHIR R4 Bundle (type collection)
  --to hl7v2       HL7 v2 ER7 messages (segments on their own lines)
Warnings (things accepted but not carried over) go to stderr as "warning:" lines.

Input the codec refuses exits with code 2 and ONE line on stderr naming the problem and
where it is (segment and field, JSON path, XPath or line) — never the values themselves.

options:
  --from FORMAT     hl7v2 | fhir | ccda | csv
  --to FORMAT       canonical | fhir | hl7v2
  --profile P       facility profile (JSON): facility id, MRN, code maps, CSV mapping, hooks.
                    Without it CSV uses the hix canonical column layout.

examples:
  hix convert --from hl7v2 --to fhir ADT_A04.hl7
  hix convert --from csv --to canonical --profile deploy/facilities/practice/profile.json export.csv
  cat bundle.json | hix convert --from fhir --to hl7v2 -`,
  async run(args, io) {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: { from: { type: "string" }, to: { type: "string" }, profile: { type: "string" } },
    });
    const from = values.from;
    const to = values.to;
    if (from === undefined || !(INBOUND_FORMATS as readonly string[]).includes(from))
      throw new UsageError(`--from must be one of ${INBOUND_FORMATS.join(", ")}`);
    if (to === undefined || !(TARGETS as readonly string[]).includes(to))
      throw new UsageError(`--to must be one of ${TARGETS.join(", ")}`);
    if (positionals.length !== 1) throw new UsageError("give exactly one input: a FILE, or - for stdin");

    let profile: FacilityProfile;
    let hooks: Hooks | undefined;
    try {
      if (values.profile !== undefined) {
        const loaded = await loadProfile(resolve(io.cwd, values.profile));
        profile = loaded.profile;
        if (profile.hooks !== undefined) hooks = await loadHooks(loaded.path(profile.hooks));
      } else {
        profile = parseProfile({ id: "local", name: "hix convert", csv: CANONICAL_CSV_MAPPING });
      }
    } catch (err) {
      return badInput(io, err);
    }
    const input = await readInput(positionals[0]!, io);
    try {
      const conversion = convertInbound(from as InboundFormat, input, {
        profile,
        ...(hooks ? { hooks } : {}),
      });
      for (const w of conversion.warnings)
        io.stderr.write(`warning: ${w.location}: ${w.message} [${w.code}]\n`);
      if (to === "canonical") {
        io.stdout.write(`${JSON.stringify(conversion.bodies.map(bodyToJson), null, 2)}\n`);
      } else {
        const rendered = renderOutbound(to as "fhir" | "hl7v2", conversion.bodies, {
          profile,
          ...(hooks ? { hooks } : {}),
        });
        for (const r of rendered)
          io.stdout.write(to === "hl7v2" ? `${r.text.replace(/\r(?!\n)/g, "\n")}\n` : r.text);
      }
      return EXIT.ok;
    } catch (err) {
      return badInput(io, err);
    }
  },
};

async function readInput(name: string, io: CommandIo): Promise<string> {
  if (name === "-") {
    const chunks: Buffer[] = [];
    for await (const chunk of io.stdin as AsyncIterable<Buffer | string>)
      chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
    return Buffer.concat(chunks).toString("utf8");
  }
  try {
    return await readFile(resolve(io.cwd, name), "utf8");
  } catch (err) {
    throw new UsageError(`cannot read ${name} (${(err as NodeJS.ErrnoException).code ?? "error"})`);
  }
}

/**
 * Refused input: one line, exit 2. Our codecs' messages say what and where without values;
 * anything else (a bug) is named by its type only, so no stack trace or payload leaks out.
 */
function badInput(io: CommandIo, err: unknown): number {
  const e = err as { name?: string; code?: unknown; location?: unknown; message?: string };
  const known = typeof e.code === "string" && typeof e.message === "string";
  if (!known) {
    io.stderr.write(`hix convert: internal error (${e.name ?? "unknown"}); please report it\n`);
    return EXIT.failed;
  }
  const message = (e.message ?? "").split("\n")[0]!;
  io.stderr.write(`hix convert: ${message} [${String(e.code)}]\n`);
  return EXIT.usage;
}
