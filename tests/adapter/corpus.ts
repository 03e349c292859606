// Test-only: the shared HL7 v2 samples (../shared/data/hl7v2-*), one entry per message.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fixturePath } from "@hix/testkit";

export interface SampleMessage {
  readonly name: string;
  readonly text: string;
}

/** Every message of every sample file; batch envelopes (FHS/BHS/BTS/FTS) and comments dropped. */
export function sampleMessages(): SampleMessage[] {
  const root = fixturePath();
  const out: SampleMessage[] = [];
  for (const dir of readdirSync(root)
    .filter((d) => d.startsWith("hl7v2-"))
    .sort()) {
    for (const file of readdirSync(join(root, dir)).sort()) {
      if (file === "SOURCE.md" || file.startsWith("LICENSE") || file.endsWith(".json")) continue;
      const text = readFileSync(join(root, dir, file), "utf8")
        .replace(/^\uFEFF/, "")
        .replace(/\/\*[\s\S]*?\*\/|^\/\/[^\n]*/gm, "");
      const messages: string[] = [];
      for (const line of text.split(/\r\n|\r|\n/)) {
        if (line.trim() === "" || /^(FHS|BHS|BTS|FTS)/.test(line)) continue;
        if (line.startsWith("MSH") || messages.length === 0) messages.push(`${line}\r`);
        else messages[messages.length - 1] += `${line}\r`;
      }
      messages.forEach((m, i) =>
        out.push({ name: `${dir}/${file}${messages.length > 1 ? `#${i + 1}` : ""}`, text: m }),
      );
    }
  }
  return out;
}
