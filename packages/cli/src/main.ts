import { EXIT, UsageError, type Command, type CommandIo } from "./command.js";
import { commands } from "./commands/index.js";

/** Dispatches `hix <words…> [options]` to the longest matching command path. */
export async function main(argv: readonly string[], io: CommandIo): Promise<number> {
  const wantsHelp = argv.includes("--help") || argv.includes("-h");
  const match = findCommand(argv);
  if (match === undefined) {
    if (argv.length === 0 || (wantsHelp && argv[0]?.startsWith("-"))) {
      io.stdout.write(overview());
      return EXIT.ok;
    }
    const group = commands.filter((c) => c.path[0] === argv[0]);
    if (group.length > 0) {
      (wantsHelp ? io.stdout : io.stderr).write(overview(group));
      return wantsHelp ? EXIT.ok : EXIT.usage;
    }
    io.stderr.write(`hix: unknown command '${argv.join(" ")}'. Run 'hix --help' for the list.\n`);
    return EXIT.usage;
  }
  const { command, rest } = match;
  if (wantsHelp) {
    io.stdout.write(`${command.help.trimEnd()}\n`);
    return EXIT.ok;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`hix ${command.path.join(" ")}: ${err.message}\n`);
      return EXIT.usage;
    }
    const code = typeof err === "object" && err !== null && "code" in err ? ` [${String(err.code)}]` : "";
    const message = err instanceof Error ? err.message : String(err);
    io.stderr.write(`hix ${command.path.join(" ")}: ${message.split("\n")[0]}${code}\n`);
    return isUnavailable(err) ? EXIT.unavailable : EXIT.failed;
  }
}

function findCommand(argv: readonly string[]): { command: Command; rest: string[] } | undefined {
  let best: Command | undefined;
  for (const command of commands) {
    const matches = command.path.every((word, i) => argv[i] === word);
    if (matches && (best === undefined || command.path.length > best.path.length)) best = command;
  }
  return best === undefined ? undefined : { command: best, rest: argv.slice(best.path.length) };
}

function overview(list: readonly Command[] = commands): string {
  const width = Math.max(...list.map((c) => c.path.join(" ").length), 10);
  const lines = list.map((c) => `  ${c.path.join(" ").padEnd(width)}  ${c.summary}`);
  return [
    "hix — an exchange for medical records between facilities that do not share a system",
    "",
    "usage: hix <command> [options]      hix <command> --help for details",
    "",
    "commands:",
    ...lines,
    "",
    "exit codes: 0 ok · 1 failed · 2 bad usage or input · 3 NATS or PostgreSQL unreachable",
    "",
  ].join("\n");
}

function isUnavailable(err: unknown): boolean {
  const code = typeof err === "object" && err !== null && "code" in err ? String(err.code) : "";
  return (
    ["ECONNREFUSED", "CONNECTION_REFUSED", "ENOTFOUND", "ETIMEDOUT"].includes(code) ||
    code.endsWith("unavailable")
  );
}

// Run when executed as the program (bin/hix.js), not when imported by tests.
if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, "/"))) {
  const io: CommandIo = {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
  };
  process.exitCode = await main(process.argv.slice(2), io);
}
