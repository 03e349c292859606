import { readFile, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { linkRecords, type LinkageRecord } from "@hix/linkage";
import { EXIT, UsageError, type Command } from "../command.js";
import { headerMatches, readCsv, rowToRecord, type InputFormat } from "./match-csv.js";

/** Quotes a CSV value when it needs it (RFC 4180). */
const csv = (v: string): string => (/[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);

export const match: Command = {
  path: ["match"],
  summary: "batch record linkage of a CSV export: duplicate pairs and clusters",
  help: `usage: hix match --input FILE.csv [--format canonical|febrl] --out pairs.csv [--clusters FILE]

Finds records of the same person in one file — a facility's export before onboarding, or a
duplicate audit — with @hix/linkage (normalization, blocking, Fellegi-Sunter with m/u estimated
by EM from the file, twin and Jr/Sr guards). Nothing leaves the machine.

input (--format canonical, the default), header required, any value may be empty:
  record_id,facility_id,mrn,given_name,middle_name,family_name,birth_date,sex,address_line,city,state,postal_code,phone,ssn
input (--format febrl): the FEBRL benchmark layout
  rec_id, given_name, surname, street_number, address_1, address_2, suburb, postcode, state, date_of_birth, soc_sec_id

output:
  --out FILE        pairs: record_id_a,record_id_b,score,decision — score in bits of evidence
                    (log2 likelihood ratio; match ≥ 20, review ≥ 6), decision match or review
  --clusters FILE   cluster_id,record_id,review — records joined by match pairs; review=true when
                    a merge into the cluster was refused (a person should look)

Progress goes to stderr. Bad rows (wrong field count, empty or repeated record id, unclosed quote)
are reported with their line numbers and skipped; the exit code is still 0 if the rest linked.

example:
  hix match --input clinic-export.csv --out pairs.csv --clusters clusters.csv`,
  async run(args, io) {
    const { values } = parseArgs({
      args: [...args],
      options: {
        input: { type: "string" },
        format: { type: "string", default: "canonical" },
        out: { type: "string" },
        clusters: { type: "string" },
      },
    });
    if (values.input === undefined) throw new UsageError("--input FILE.csv is required");
    if (values.out === undefined) throw new UsageError("--out pairs.csv is required");
    const format = values.format;
    if (format !== "canonical" && format !== "febrl")
      throw new UsageError(`--format must be canonical or febrl, got ${JSON.stringify(format)}`);
    const inputPath = resolve(io.cwd, values.input);
    let text: string;
    try {
      text = await readFile(inputPath, "utf8");
    } catch {
      throw new UsageError(`cannot read ${values.input}`);
    }
    const started = performance.now();
    const { records, bad } = parseInput(format, text, (line, why) =>
      io.stderr.write(`${values.input}:${line}: skipped: row ${why}\n`),
    );
    if (records.length === 0) throw new UsageError(`${values.input}: no usable rows`);
    io.stderr.write(`read ${records.length} records (${bad} skipped); linking…\n`);

    const result = linkRecords(records);
    const s = result.stats;
    io.stderr.write(
      `compared ${s.candidatePairs} candidate pairs in ${(s.milliseconds.total / 1000).toFixed(1)} s: ` +
        `${s.decisions.match} match, ${s.decisions.review} review, ${s.clusters} clusters` +
        (s.refusedMerges > 0 ? `, ${s.refusedMerges} merges refused` : "") +
        "\n",
    );
    const pairLines = ["record_id_a,record_id_b,score,decision"];
    for (const p of [...result.pairs].sort((x, y) => y.score - x.score))
      pairLines.push(`${csv(p.a)},${csv(p.b)},${p.score.toFixed(2)},${p.decision}`);
    await writeFile(resolve(io.cwd, values.out), `${pairLines.join("\n")}\n`);
    if (values.clusters !== undefined) {
      const lines = ["cluster_id,record_id,review"];
      result.clusters.forEach((c, i) => {
        for (const id of c.ids) lines.push(`${i + 1},${csv(id)},${c.review}`);
      });
      await writeFile(resolve(io.cwd, values.clusters), `${lines.join("\n")}\n`);
    }
    io.stderr.write(
      `wrote ${result.pairs.length} pairs to ${values.out}` +
        (values.clusters === undefined
          ? ""
          : ` and ${result.clusters.length} clusters to ${values.clusters}`) +
        ` in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
    );
    return EXIT.ok;
  },
};

/** Rows → records; each bad row is reported through `skip` and counted. */
export function parseInput(
  format: InputFormat,
  text: string,
  skip: (line: number, why: string) => void,
): { records: LinkageRecord[]; bad: number } {
  const records: LinkageRecord[] = [];
  const seen = new Set<string>();
  let bad = 0;
  let header = true;
  for (const row of readCsv(text.replace(/^\uFEFF/, ""))) {
    if ("error" in row) {
      skip(row.line, row.error);
      bad++;
      continue;
    }
    if (header) {
      header = false;
      if (!headerMatches(format, row.fields))
        throw new UsageError(`line ${row.line}: header is not the ${format} header (see hix match --help)`);
      continue;
    }
    const record = rowToRecord(format, row.fields);
    if (typeof record === "string") {
      skip(row.line, record);
      bad++;
    } else if (seen.has(record.id)) {
      skip(row.line, "repeats a record id used on an earlier line");
      bad++;
    } else {
      seen.add(record.id);
      records.push(record);
    }
  }
  return { records, bad };
}
