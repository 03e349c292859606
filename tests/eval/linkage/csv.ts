// A small reader for the unquoted CSV of the FEBRL and Splink sample sets: comma separated,
// FEBRL puts a space after every comma (values are trimmed). Neither set quotes values, so a
// quote character is rejected rather than parsed half-right.
import { readFileSync } from "node:fs";

export function readSimpleCsv(path: string): Record<string, string>[] {
  const lines = readFileSync(path, "utf8")
    .split(/\r?\n/)
    .filter((l) => l.trim().length > 0);
  const header = (lines[0] ?? "").split(",").map((h) => h.trim());
  return lines.slice(1).map((line, n) => {
    if (line.includes('"'))
      throw new Error(`${path}: line ${n + 2} has a quote; this reader handles unquoted CSV only`);
    const cells = line.split(",");
    if (cells.length !== header.length)
      throw new Error(`${path}: line ${n + 2} has ${cells.length} cells, header has ${header.length}`);
    return Object.fromEntries(header.map((h, i) => [h, (cells[i] ?? "").trim()]));
  });
}
