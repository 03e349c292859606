import { join } from "node:path";
import { parseArgs } from "node:util";
import { connect } from "nats";
import pg from "pg";
import { createTopology, listDeadLetters } from "@hix/bus";
import { EXIT, type Command } from "../command.js";
import { loadExchangeConfig } from "../stack/exchange-config.js";
import { REPO_ROOT } from "../stack/paths.js";
import { postgresAnswers, redactUrl } from "../stack/postgres.js";
import { runCommand, startStack, type Stack } from "../stack/stack.js";
import { facilityAdd } from "./facility-add.js";
import { stopSignal } from "../stack/signals.js";
import { facilityAddArgs } from "./up.js";
import { Observer } from "../demo/observer.js";
import { runScenario } from "../demo/scenario.js";
import { buildWorkspace, sharedDataDir } from "../demo/workspace.js";

const LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres";
const DEMO_DATABASE = "hix_demo";
const PREFIX = "demo";

export const demo: Command = {
  path: ["demo"],
  summary: "bring up three sample facilities and play the exchange's real flows, with a timeline",
  help: `usage: hix demo [--keep] [--embedded-postgres]

Builds three facilities from the shared sample data — a hospital on HL7 v2 over MLLP, a clinic
with FHIR R4, a private practice exporting CSV and C-CDA — brings the exchange up (hix up), and
plays the real flows: the hospital locates a patient and receives her records from two holders;
the practice sends a referral that the hospital accepts; the reconciler flags a duplicate and a
conflict; a malformed message is refused and a broken one lands in the dead-letter stream.
Prints a timeline and a summary; exits 0 only if every step happened.

Uses NATS at $HIX_NATS_URL (default nats://127.0.0.1:4222; started locally if absent) and, for
PostgreSQL, $HIX_DATABASE_URL, else a fresh '${DEMO_DATABASE}' database on the local server, else an
embedded PGlite. Its streams use the topology prefix '${PREFIX}', so it never touches another
exchange's traffic. Files and logs go to .hix/demo/.

options:
  --keep               leave the exchange running after the summary, until Ctrl-C
  --embedded-postgres  use the embedded PostgreSQL even if a server answers`,
  async run(args, io) {
    const { values } = parseArgs({
      args: [...args],
      options: { keep: { type: "boolean" }, "embedded-postgres": { type: "boolean" } },
    });
    const t0 = Date.now();
    const say = (text: string): void =>
      void io.stdout.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${text}\n`);
    const shared = sharedDataDir(io.env);
    const natsUrl = io.env["HIX_NATS_URL"] ?? "nats://127.0.0.1:4222";
    const databaseUrl =
      values["embedded-postgres"] === true ? undefined : await demoDatabase(io.env["HIX_DATABASE_URL"]);

    say("hix demo — three facilities, one exchange");
    await clearDemoStreams(natsUrl);
    const workspace = await buildWorkspace(join(REPO_ROOT, ".hix", "demo"), shared, {
      natsUrl,
      databaseUrl,
      prefix: PREFIX,
      auditPatientKey: "demo-only-audit-key-not-a-secret",
    });
    say(`facilities built from ${shared} into ${workspace.root}`);

    let stack: Stack | undefined;
    const signal = stopSignal();
    const interrupted = signal.received.then(() => "interrupted" as const);
    try {
      const config = loadExchangeConfig(workspace.exchangeFile);
      stack = await startStack(config, {
        onStep: (text) => say(text),
        logLevel: "info",
        graceMs: 10_000,
        registerFacility: async (facility, url) =>
          void (await runCommand(facilityAdd, facilityAddArgs(facility, url), io.env)),
      });
      say(
        `exchange up (PostgreSQL: ${stack.postgresKind === "embedded" ? "embedded PGlite" : redactUrl(stack.databaseUrl)}; logs: ${stack.logDir})`,
      );

      const nc = await connect({ servers: stack.natsUrl, name: "hix-demo" });
      const topology = createTopology(config.topologyPrefix);
      const observer = new Observer(nc, topology);
      const outcome = await Promise.race([
        runScenario({ nc, topology, workspace, observer, databaseUrl: stack.databaseUrl, say }),
        interrupted,
      ]);
      if (outcome === "interrupted") {
        say("interrupted; stopping");
        observer.close();
        await nc.drain();
        return 130;
      }

      // ------------------------------------------------------------------ summary
      const jsm = await nc.jetstreamManager();
      const count = async (name: string): Promise<number> => (await jsm.streams.info(name)).state.messages;
      const letters = await listDeadLetters(jsm, topology, { limit: 1000 });
      const receipts = tally(observer.receipts().map((r) => r.status));
      const alerts = tally(observer.alerts().map((a) => a.kind));
      const audit = await auditRows(stack.databaseUrl);
      const passed = outcome.filter((s) => s.ok).length;
      const lines = [
        "",
        "summary",
        `  steps        ${passed}/${outcome.length} happened${
          outcome.some((s) => !s.ok)
            ? ` — failed: ${outcome
                .filter((s) => !s.ok)
                .map((s) => s.name)
                .join("; ")}`
            : ""
        }`,
        `  messages     ${await count(topology.streams.in.name)} submitted (HIX_IN), ${await count(topology.streams.out.name)} delivered (HIX_OUT), ${letters.length} dead-lettered (HIX_DLQ)`,
        `  receipts     ${format(receipts)}`,
        `  alerts       ${format(alerts)}`,
        `  audit rows   ${audit}`,
        `  timings      ${outcome.map((s) => `${(s.ms / 1000).toFixed(1)}s`).join(" · ")} — total ${((Date.now() - t0) / 1000).toFixed(1)} s`,
        "",
        "look closer (the data stays until the next demo):",
        `  pnpm hix dlq list --prefix ${PREFIX}`,
        `  pnpm hix review list --database-url ${redactUrl(stack.databaseUrl)}`,
        `  pnpm hix audit search --database-url ${redactUrl(stack.databaseUrl)}`,
        "",
      ];
      io.stdout.write(lines.join("\n"));
      observer.close();
      await nc.drain();

      if (values.keep === true) {
        say("exchange still running (--keep); Ctrl-C to stop");
        await interrupted;
      }
      return passed === outcome.length ? EXIT.ok : EXIT.failed;
    } finally {
      if (stack !== undefined) {
        say("stopping the exchange");
        await stack.stop();
        say("stopped");
      }
      signal.dispose();
    }
  },
};

/** A fresh demo database on the configured or local PostgreSQL; undefined → embedded PGlite. */
async function demoDatabase(configured: string | undefined): Promise<string | undefined> {
  if (configured !== undefined && configured !== "") return configured;
  if (!(await postgresAnswers(LOCAL_POSTGRES))) return undefined;
  const admin = new pg.Client({ connectionString: LOCAL_POSTGRES });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${DEMO_DATABASE} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${DEMO_DATABASE}`);
  } finally {
    await admin.end();
  }
  const url = new URL(LOCAL_POSTGRES);
  url.pathname = `/${DEMO_DATABASE}`;
  return url.toString();
}

/** Removes what an earlier demo run left in NATS (its streams, consumers and buckets). */
async function clearDemoStreams(natsUrl: string): Promise<void> {
  let nc;
  try {
    nc = await connect({ servers: natsUrl, timeout: 1500, maxReconnectAttempts: 0 });
  } catch {
    return; // no NATS yet: hix up starts one, and it is empty
  }
  try {
    const jsm = await nc.jetstreamManager();
    for await (const name of jsm.streams.names()) {
      if (
        name.startsWith(`${PREFIX.toUpperCase()}_`) ||
        name.startsWith(`KV_${PREFIX.toUpperCase()}_`) ||
        name.startsWith(`KV_${PREFIX}_`)
      ) {
        await jsm.streams.delete(name);
      }
    }
  } finally {
    await nc.close();
  }
}

async function auditRows(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    const r = await client.query<{ outcome: string; n: string }>(
      "SELECT outcome, count(*) AS n FROM audit_ledger GROUP BY outcome ORDER BY outcome",
    );
    const total = r.rows.reduce((n, row) => n + Number(row.n), 0);
    return `${total} (${r.rows.map((row) => `${row.n} ${row.outcome}`).join(", ")})`;
  } catch {
    return "unavailable";
  } finally {
    await client.end().catch(() => undefined);
  }
}

function tally(values: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

function format(m: Map<string, number>): string {
  return m.size === 0 ? "none" : [...m.entries()].map(([k, n]) => `${n} ${k}`).join(", ");
}
