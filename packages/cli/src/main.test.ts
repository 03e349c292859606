import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { commands } from "./commands/index.js";
import { main } from "./main.js";
import { runHix } from "./test-support/run-hix.js";

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (c: Buffer) => (out += c.toString()));
  stderr.on("data", (c: Buffer) => (err += c.toString()));
  const code = await main(argv, { stdout, stderr, stdin: new PassThrough(), env: {}, cwd: process.cwd() });
  return { code, stdout: out, stderr: err };
}

describe("hix --help", () => {
  it("lists every subcommand with its summary, as the installed command prints it", async () => {
    const r = await runHix(["--help"]);
    expect(r.code).toBe(0);
    for (const c of commands) expect(r.stdout).toContain(`${c.path.join(" ")}`);
    expect(r.stdout).toMatch(
      /exit codes: 0 ok · 1 failed · 2 bad usage or input · 3 NATS or PostgreSQL unreachable/,
    );
  });

  it.each(commands.map((c) => [c.path.join(" "), c] as const))(
    "hix %s --help prints its usage and exits 0",
    async (_name, c) => {
      const r = await run([...c.path, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^usage: hix ${c.path.join(" ")}\\b`));
    },
  );

  it("says an unknown command is unknown, with exit 2", async () => {
    const r = await run(["frobnicate"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'frobnicate'/);
  });

  it("lists a group's commands for a bare group word", async () => {
    const r = await run(["dlq", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/dlq list/);
    expect(r.stdout).toMatch(/dlq replay/);
  });
});
