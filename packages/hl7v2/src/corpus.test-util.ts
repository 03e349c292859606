// Test-only: the public HL7 v2 sample corpus in ../shared/data/hl7v2-* (see each SOURCE.md).
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const DATA_ROOT = fileURLToPath(new URL("../../../../shared/data/", import.meta.url));

export interface CorpusFile {
  /** `hl7v2-hapi/messages.txt` */
  readonly name: string;
  readonly dir: string;
  readonly file: string;
  /** Decoded as UTF-8 (BOM kept as U+FEFF). */
  readonly text: string;
}

/** Every message file under the hl7v2-* folders (not SOURCE.md, licences or the escape table). */
export function corpusFiles(): CorpusFile[] {
  const out: CorpusFile[] = [];
  for (const dir of readdirSync(DATA_ROOT)
    .filter((d) => d.startsWith("hl7v2-"))
    .sort()) {
    for (const file of readdirSync(DATA_ROOT + dir).sort()) {
      if (file === "SOURCE.md" || file.startsWith("LICENSE") || file.endsWith(".json")) continue;
      out.push({
        name: `${dir}/${file}`,
        dir,
        file,
        text: readFileSync(`${DATA_ROOT}${dir}/${file}`, "utf8"),
      });
    }
  }
  return out;
}

/** hapi's messages.txt interleaves `/* … *\/` and `// …` comment lines between messages; SOURCE.md says to strip them. */
export function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\/|^\/\/[^\n]*/gm, "");
}

/** A row of a SOURCE.md "Files" table: file name → column name → cell. */
export function sourceTable(dir: string): Map<string, Record<string, string>> {
  const md = readFileSync(`${DATA_ROOT}${dir}/SOURCE.md`, "utf8");
  const lines = md.split("\n").filter((l) => l.startsWith("| "));
  const headerAt = lines.findIndex((l) => l.startsWith("| file |"));
  const rows = new Map<string, Record<string, string>>();
  if (headerAt < 0) return rows;
  const cells = (l: string): string[] =>
    l
      .split("|")
      .slice(1, -1)
      .map((c) => c.trim());
  const header = cells(lines[headerAt]!);
  for (const l of lines.slice(headerAt + 2)) {
    const c = cells(l);
    const row: Record<string, string> = {};
    header.forEach((h, i) => (row[h] = c[i] ?? ""));
    rows.set((row.file ?? "").replace(/`/g, ""), row);
  }
  return rows;
}
