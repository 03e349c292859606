/**
 * Where refused input is kept: the original, byte for byte, plus `<file>.reason.txt` saying
 * why (code, location, message — our own words, no payload) so an engineer can fix and
 * resend it. Nothing refused is ever only dropped.
 */
import { access, mkdir, rename, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";

export interface Reason {
  readonly code: string;
  readonly location?: string | undefined;
  readonly message: string;
}

export function reasonText(reason: Reason, extra: Record<string, string> = {}): string {
  const lines = [
    `code: ${reason.code}`,
    ...(reason.location ? [`location: ${reason.location}`] : []),
    `reason: ${reason.message}`,
    `at: ${new Date().toISOString()}`,
    ...Object.entries(extra).map(([k, v]) => `${k}: ${v}`),
  ];
  return `${lines.join("\n")}\n`;
}

/** Writes `content` into `dir` under a unique name and its reason beside it; returns the path. */
export async function quarantine(
  dir: string,
  name: string,
  content: string | Uint8Array,
  reason: Reason,
  extra: Record<string, string> = {},
): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, "-")}-${safeName(name)}`);
  // Write the reason first: a file in quarantine without its reason would be a mystery.
  await writeFile(`${file}.reason.txt`, reasonText(reason, extra));
  await writeFile(file, content);
  return file;
}

/** Moves a processed file into `dir` (done/ or error/), keeping its name unique. */
export async function moveInto(dir: string, file: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  let target = join(dir, basename(file));
  // rename() silently replaces an existing file: never let a second "a.hl7" erase the first.
  if (await exists(target)) target = join(dir, `${Date.now()}-${basename(file)}`);
  await rename(file, target);
  return target;
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 80) || "message";
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
