import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { repoRoot } from "./repo-root.js";
import { TestkitError } from "./errors.js";

/**
 * Absolute path into the shared public sample data (`../shared/data` beside the repository,
 * or `HIX_SHARED_DATA`). Codec tests and benchmarks read real sample files from here.
 */
export function fixturePath(...parts: string[]): string {
  const base = sharedDataDir();
  return resolve(base, ...parts);
}

function sharedDataDir(): string {
  const base = process.env["HIX_SHARED_DATA"] ?? resolve(repoRoot, "../shared/data");
  if (!existsSync(base)) {
    throw new TestkitError(
      "testkit.no_shared_data",
      `shared sample data not found at ${base}: place shared/ beside the repository or set HIX_SHARED_DATA`,
    );
  }
  return base;
}
