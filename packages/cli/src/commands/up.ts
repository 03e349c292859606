import { parseArgs } from "node:util";
import { EXIT, UsageError, type Command } from "../command.js";
import { loadExchangeConfig, type FacilityConfig } from "../stack/exchange-config.js";
import { runCommand, startStack } from "../stack/stack.js";
import { summarize } from "../stack/processes.js";
import { facilityAdd } from "./facility-add.js";
import { stopSignal } from "../stack/signals.js";

export const up: Command = {
  path: ["up"],
  summary: "run the whole exchange locally: router, reconciler and an adapter per facility",
  help: `usage: hix up [--config FILE] [--logs] [--log-level LEVEL]

Starts the exchange described by an exchange file (default deploy/local/exchange.json):
NATS is used where it answers, otherwise a local nats-server is started (installed, or
fetched with 'pnpm nats:fetch'); PostgreSQL is the file's databaseUrl or $HIX_DATABASE_URL,
otherwise an embedded PostgreSQL (PGlite) with its data in the file's dataDir. Then
the facilities' directory entries, the router, the reconciler and one adapter per facility,
each a child process. Logs go to <dataDir>/logs/. Ctrl-C stops everything cleanly.

options:
  --config FILE      exchange file (JSON; see deploy/local/exchange.json)
  --logs             also print every service log line (summarized)
  --log-level LEVEL  services' log level (default info)`,
  async run(args, io) {
    const { values } = parseArgs({
      args: [...args],
      options: { config: { type: "string" }, logs: { type: "boolean" }, "log-level": { type: "string" } },
    });
    const loaded = loadExchangeConfig(values.config ?? "deploy/local/exchange.json");
    const fromEnv = io.env["HIX_DATABASE_URL"];
    const config = loaded.databaseUrl === undefined && fromEnv ? { ...loaded, databaseUrl: fromEnv } : loaded;
    const started = Date.now();
    const say = (text: string): void =>
      void io.stdout.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${text}\n`);
    const stack = await startStack(config, {
      onStep: say,
      ...(values["log-level"] === undefined ? {} : { logLevel: values["log-level"] }),
      ...(values.logs === true
        ? { onLine: (name: string, line: string) => say(`${name}: ${summarize(line)}`) }
        : {}),
      registerFacility: async (facility, databaseUrl) => {
        await runCommand(facilityAdd, facilityAddArgs(facility, databaseUrl), io.env);
      },
    });
    say(`exchange up: ${stack.services.length} services; logs in ${stack.logDir}; Ctrl-C to stop`);
    const signal = stopSignal();
    try {
      await signal.received;
      say("stopping");
      await stack.stop();
      say("stopped");
    } finally {
      signal.dispose();
    }
    return EXIT.ok;
  },
};

/** `hix facility add` arguments for a facility of the exchange file. */
export function facilityAddArgs(facility: FacilityConfig, databaseUrl: string): string[] {
  const policy = Object.entries(facility.policy).map(([purpose, action]) => `${purpose}=${action}`);
  if (facility.id === "") throw new UsageError("facility without id");
  return [
    facility.id,
    "--name",
    facility.name,
    "--database-url",
    databaseUrl,
    "--default-action",
    facility.defaultAction,
    ...(facility.formats.length > 0 ? ["--format", facility.formats.join(",")] : []),
    ...(policy.length > 0 ? ["--policy", policy.join(",")] : []),
  ];
}
