// Fails when the committed generated code is not what `pnpm gen` makes from
// proto/ (DESIGN.md house style 11: generated code is reproducible). Runs the
// generator, then asks git whether anything under the generated output or the
// contract changed or appeared.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const watched = ["packages/proto/src/gen", "proto"];

try {
  execFileSync("pnpm", ["gen"], { cwd: root, stdio: "inherit" });
} catch {
  console.error("gen:check: `pnpm gen` failed (buf lint or buf generate); see its output above.");
  process.exit(1);
}

const status = execFileSync("git", ["status", "--porcelain", "--untracked-files=all", "--", ...watched], {
  cwd: root,
  encoding: "utf8",
});
const changed = status.split("\n").filter((line) => line.trim() !== "");

if (changed.length > 0) {
  console.error(
    `gen:check: generated code is out of date with proto/ (${changed.length} file(s) changed or untracked):`,
  );
  for (const line of changed) console.error(`  ${line}`);
  console.error("Run `pnpm gen` and commit proto/ and packages/proto/src/gen together.");
  process.exit(1);
}
console.log("gen:check: generated code matches proto/");
