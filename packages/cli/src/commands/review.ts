// `hix review list | show | decide | shadow`: the records technicians' queue of the master
// patient index (reconciler). Works on the reconciler's PostgreSQL directly; every decision is an
// audited event with the reviewer's id and reason.
import { parseArgs } from "node:util";
import { createPool } from "@hix/db";
import {
  DEFAULT_RULE_VERSION,
  decide,
  listAlerts,
  migrateReconcilerSchema,
  shadowRun,
  showAlert,
  type AlertSummary,
  type ReviewActionName,
} from "@hix/reconciler";
import { EXIT, UsageError, type Command, type CommandIo } from "../command.js";

const DB_OPTIONS = {
  "database-url": { type: "string" },
  json: { type: "boolean" },
} as const;
const DB_HELP = `  --database-url URL   the reconciler's PostgreSQL (default: $HIX_DATABASE_URL)
  --json               one JSON object per line`;

async function withPool<T>(
  url: string | undefined,
  io: CommandIo,
  fn: (pool: ReturnType<typeof createPool>) => Promise<T>,
): Promise<T> {
  const resolved = url ?? io.env["HIX_DATABASE_URL"];
  if (resolved === undefined || resolved === "")
    throw new UsageError("give --database-url or set HIX_DATABASE_URL");
  const pool = createPool(resolved, { max: 2, applicationName: "hix-review" });
  try {
    await migrateReconcilerSchema(pool);
    return await fn(pool);
  } finally {
    await pool.end();
  }
}

const refs = (a: AlertSummary): string => a.records.map((r) => `${r.facilityId}/${r.localId}`).join(" ↔ ");

export const reviewList: Command = {
  path: ["review", "list"],
  summary: "list the identity alerts waiting for review (duplicates, cross-facility links, conflicts)",
  help: `usage: hix review list [--status open|decided|all] [--kind KIND] [--facility ID] [--limit N]

Lists alerts oldest first: id, kind, score (0..1), whether the reconciler linked the pair itself,
the records (facility/local id) and the reason (field names only).

${DB_HELP}`,
  async run(args, io) {
    const { values } = parseArgs({
      args: [...args],
      options: {
        ...DB_OPTIONS,
        status: { type: "string" },
        kind: { type: "string" },
        facility: { type: "string" },
        limit: { type: "string" },
      },
    });
    const status = values.status ?? "open";
    if (status !== "open" && status !== "decided" && status !== "all")
      throw new UsageError("--status must be open, decided or all");
    const kind = values.kind;
    if (kind !== undefined && kind !== "duplicate" && kind !== "cross-facility-link" && kind !== "conflict")
      throw new UsageError("--kind must be duplicate, cross-facility-link or conflict");
    const limit = values.limit === undefined ? 100 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new UsageError("--limit must be a positive integer");
    const alerts = await withPool(values["database-url"], io, (pool) =>
      listAlerts(pool, {
        status,
        limit,
        ...(kind === undefined ? {} : { kind }),
        ...(values.facility === undefined ? {} : { facilityId: values.facility }),
      }),
    );
    if (values.json === true) {
      for (const a of alerts) io.stdout.write(`${JSON.stringify(a)}\n`);
    } else if (alerts.length === 0) {
      io.stdout.write("no alerts\n");
    } else {
      for (const a of alerts)
        io.stdout.write(
          `${a.alertId}  ${a.kind.padEnd(19)} ${a.status.padEnd(7)} ${a.autoLinked ? "linked " : "pending"}  ${a.score.toFixed(1).padStart(5)} bits  ${refs(a)}\n    ${a.reason}\n`,
        );
    }
    return EXIT.ok;
  },
};

export const reviewShow: Command = {
  path: ["review", "show"],
  summary: "show one alert: records side by side, field-by-field explanation, history",
  help: `usage: hix review show ALERT_ID [--phi]

Shows the alert, the field-by-field comparison (agreement level and weight of each field, guards)
and every event about the records. Patient values are masked unless --phi is given (the reviewer
needs them to compare charts; keep them off shared screens and logs).

${DB_HELP}
  --phi                print the compared values`,
  async run(args, io) {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: { ...DB_OPTIONS, phi: { type: "boolean" } },
    });
    const id = positionals[0];
    if (id === undefined) throw new UsageError("give the alert id, e.g. 'hix review show 01J…'");
    const detail = await withPool(values["database-url"], io, (pool) => showAlert(pool, id));
    const phi = values.phi === true;
    const mask = (v: string | undefined): string => (v === undefined ? "–" : phi ? v : "•••");
    if (values.json === true) {
      const { sources, explanation, ...rest } = detail;
      io.stdout.write(
        `${JSON.stringify({
          ...rest,
          ...(phi ? { sources } : {}),
          explanation:
            explanation === undefined
              ? undefined
              : {
                  ...explanation,
                  fields: explanation.fields.map((f) => ({ ...f, a: mask(f.a), b: mask(f.b) })),
                },
        })}\n`,
      );
      return EXIT.ok;
    }
    io.stdout.write(
      `alert ${detail.alertId}  ${detail.kind}  ${detail.status}  rule ${detail.ruleVersion}  raised ${detail.raisedAt.toISOString()}\n`,
    );
    io.stdout.write(`records: ${refs(detail)}\nreason: ${detail.reason}\n`);
    detail.sources.forEach((s, i) =>
      io.stdout.write(
        `  [${i === 0 ? "a" : "b"}] version ${s.version}  enterprise ${s.enterpriseId}${s.retired ? "  (retired by the facility)" : ""}\n`,
      ),
    );
    const e = detail.explanation;
    if (e !== undefined) {
      io.stdout.write(
        `score ${e.score.toFixed(2)} bits → ${e.decision}${e.scoreDecision !== e.decision ? ` (score alone: ${e.scoreDecision})` : ""}\n`,
      );
      io.stdout.write("FIELD        LEVEL      WEIGHT  A / B\n");
      for (const f of e.fields)
        io.stdout.write(
          `${f.field.padEnd(12)} ${f.level.padEnd(9)} ${f.weight.toFixed(2).padStart(7)}  ${mask(f.a)} / ${mask(f.b)}${f.note === undefined ? "" : `  (${f.note})`}\n`,
        );
      for (const a of e.adjustments) io.stdout.write(`adjustment ${a.weight.toFixed(2)}: ${a.reason}\n`);
      for (const g of e.guards) io.stdout.write(`guard ${g.code}: ${g.reason}\n`);
    }
    io.stdout.write("history:\n");
    for (const h of detail.history)
      io.stdout.write(`  ${h.at.toISOString()}  ${h.kind.padEnd(13)} by ${h.actor}  ${h.reason}\n`);
    return EXIT.ok;
  },
};

const ACTIONS: readonly ReviewActionName[] = ["link", "not-duplicate", "unlink", "defer"];

export const reviewDecide: Command = {
  path: ["review", "decide"],
  summary: "decide an alert: link, not-duplicate, unlink (unmerge) or defer — audited",
  help: `usage: hix review decide ALERT_ID --action link|not-duplicate|unlink|defer --reviewer USER_ID --reason "…"
       hix review decide --records FAC/LOCAL,FAC/LOCAL --action … --reviewer … --reason "…"

  link           the records are one person: link them (one enterprise patient)
  not-duplicate  different people: remembered, the pair is never proposed or linked again
  unlink         undo a link or a facility's merge (A40): both records stand as separate patients
  defer          keep the alert open; the note is audited

The decision is an event with the reviewer's id and reason; the alert is closed (except defer).

${DB_HELP}
  --rule-version V     rule version recorded with the decision (default ${DEFAULT_RULE_VERSION})`,
  async run(args, io) {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        ...DB_OPTIONS,
        action: { type: "string" },
        reviewer: { type: "string" },
        reason: { type: "string" },
        records: { type: "string" },
        "rule-version": { type: "string" },
      },
    });
    const action = values.action as ReviewActionName | undefined;
    if (action === undefined || !ACTIONS.includes(action))
      throw new UsageError(`--action must be one of ${ACTIONS.join(", ")}`);
    if (values.reviewer === undefined || values.reviewer.trim() === "")
      throw new UsageError("--reviewer USER_ID is required (audited)");
    if (values.reason === undefined || values.reason.trim() === "")
      throw new UsageError('--reason "…" is required (audited)');
    const alertId = positionals[0];
    let records:
      [{ facilityId: string; localId: string }, { facilityId: string; localId: string }] | undefined;
    if (values.records !== undefined) {
      const parsed = values.records.split(",").map((r) => {
        const slash = r.indexOf("/");
        return slash <= 0 ? undefined : { facilityId: r.slice(0, slash), localId: r.slice(slash + 1) };
      });
      if (parsed.length !== 2 || parsed[0] === undefined || parsed[1] === undefined)
        throw new UsageError("--records takes two FACILITY/LOCAL_ID separated by a comma");
      records = [parsed[0], parsed[1]];
    }
    if ((alertId === undefined) === (records === undefined))
      throw new UsageError("give either an alert id or --records, not both");
    const result = await withPool(values["database-url"], io, (pool) =>
      decide(pool, {
        action,
        reviewer: values.reviewer!,
        reason: values.reason!,
        ruleVersion: values["rule-version"] ?? DEFAULT_RULE_VERSION,
        ...(alertId === undefined ? {} : { alertId }),
        ...(records === undefined ? {} : { records }),
      }),
    );
    if (values.json === true) io.stdout.write(`${JSON.stringify(result)}\n`);
    else
      io.stdout.write(
        `${result.action} recorded as event ${result.eventId}: ${result.linksChanged} link(s) changed; enterprise ids now ${result.enterpriseIds.join(", ")}\n`,
      );
    return EXIT.ok;
  },
};

export const reviewShadow: Command = {
  path: ["review", "shadow"],
  summary: "run another rule version in shadow over the index and report what would change",
  help: `usage: hix review shadow --rule-version V [--limit N]

Re-matches every current record against its blocking-key candidates under rule version V and
compares each pair's decision with what the index holds now (linked, queued, nothing). Changes
nothing. Pairs a person decided are never overridden and are counted as "human". Exit code 1 when any decision would change (like a diff).

${DB_HELP}`,
  async run(args, io) {
    const { values } = parseArgs({
      args: [...args],
      options: { ...DB_OPTIONS, "rule-version": { type: "string" }, limit: { type: "string" } },
    });
    const version = values["rule-version"];
    if (version === undefined) throw new UsageError("--rule-version is required");
    const report = await withPool(values["database-url"], io, (pool) =>
      shadowRun(pool, version, { limit: values.limit === undefined ? 20 : Number(values.limit) }),
    );
    if (values.json === true) {
      io.stdout.write(`${JSON.stringify(report)}\n`);
      return EXIT.ok;
    }
    io.stdout.write(
      `rule ${report.ruleVersion}: ${report.records} records, ${report.pairsCompared} pairs compared, ${report.changed} decisions would change\n`,
    );
    for (const [t, n] of Object.entries(report.transitions).sort())
      io.stdout.write(`  ${t.padEnd(20)} ${n}\n`);
    for (const c of report.changes)
      io.stdout.write(
        `  ${c.a.facilityId}/${c.a.localId} ↔ ${c.b.facilityId}/${c.b.localId}: ${c.current} → ${c.shadow} (${c.score.toFixed(1)} bits)\n`,
      );
    return report.changed > 0 ? EXIT.failed : EXIT.ok;
  },
};
