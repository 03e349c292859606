import { parseArgs } from "node:util";
import { listDeadLetters, readDeadLetter, replayDeadLetter, type DeadLetter } from "@hix/bus";
import { decodeEnvelope, envelopeKind } from "@hix/proto";
import { EXIT, UsageError, type Command } from "../command.js";
import { BUS_OPTIONS, BUS_OPTIONS_HELP, openBus } from "../bus-options.js";

export const dlqList: Command = {
  path: ["dlq", "list"],
  summary: "list dead letters: what could not be processed, and why",
  help: `usage: hix dlq list [--from SEQ] [--limit N] [--code CODE] [--json]

Lists messages in the dead-letter stream (HIX_DLQ), oldest first: sequence, when it failed,
the machine code and reason, the consumer that gave up, its original subject and deliveries.
No payload content is printed.

options:
  --from SEQ        start at this dead-letter sequence (default 1)
  --limit N         at most N entries (default 50)
  --code CODE       only entries with this error code
  --json            one JSON object per line instead of a table
${BUS_OPTIONS_HELP}`,
  async run(args, io) {
    const { values } = parseArgs({
      args: [...args],
      options: {
        ...BUS_OPTIONS,
        from: { type: "string" },
        limit: { type: "string" },
        code: { type: "string" },
        json: { type: "boolean" },
      },
    });
    const bus = await openBus(values, io);
    try {
      const letters = (
        await listDeadLetters(await bus.nc.jetstreamManager(), bus.topology, {
          fromSequence: positiveInt(values.from, "--from") ?? 1,
          limit: positiveInt(values.limit, "--limit") ?? 50,
        })
      ).filter((l) => values.code === undefined || l.code === values.code);
      if (values.json === true) {
        for (const letter of letters) io.stdout.write(`${JSON.stringify(summary(letter))}\n`);
      } else if (letters.length === 0) {
        io.stdout.write("no dead letters\n");
      } else {
        io.stdout.write(
          "SEQ  FAILED AT                 CODE                          DELIVERIES  CONSUMER / SUBJECT\n",
        );
        for (const l of letters) {
          io.stdout.write(
            `${String(l.dlqSequence).padEnd(4)} ${l.failedAt.padEnd(25)} ${l.code.padEnd(29)} ${String(l.deliveries).padEnd(11)} ${l.consumer} ${l.originalSubject}\n` +
              `     reason: ${l.reason}\n`,
          );
        }
      }
      return EXIT.ok;
    } finally {
      await bus.close();
    }
  },
};

export const dlqShow: Command = {
  path: ["dlq", "show"],
  summary: "show one dead letter: its reason and the envelope's header (no PHI)",
  help: `usage: hix dlq show SEQ [--json]

Shows one dead letter: the reason, where it came from, and — when the payload is a hix envelope —
its id, kind, sender, destination and correlation id. Patient content is never printed.

${BUS_OPTIONS_HELP}`,
  async run(args, io) {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: { ...BUS_OPTIONS, json: { type: "boolean" } },
    });
    const seq = positiveInt(positionals[0], "SEQ");
    if (seq === undefined) throw new UsageError("give the dead-letter sequence, e.g. 'hix dlq show 3'");
    const bus = await openBus(values, io);
    try {
      const letter = await readDeadLetter(await bus.nc.jetstreamManager(), bus.topology, seq);
      if (letter === undefined) {
        io.stderr.write(`hix dlq show: no dead letter at sequence ${seq}\n`);
        return EXIT.failed;
      }
      const detail = { ...summary(letter), envelope: envelopeSummary(letter.data) };
      if (values.json === true) io.stdout.write(`${JSON.stringify(detail)}\n`);
      else
        for (const [key, value] of Object.entries(detail))
          io.stdout.write(
            `${key.padEnd(18)} ${typeof value === "object" ? JSON.stringify(value) : String(value)}\n`,
          );
      return EXIT.ok;
    } finally {
      await bus.close();
    }
  },
};

export const dlqReplay: Command = {
  path: ["dlq", "replay"],
  summary: "send dead letters back to their original subject once the cause is fixed",
  help: `usage: hix dlq replay SEQ...  |  hix dlq replay --all [--code CODE]

Publishes each dead letter back to its original subject (with a fresh message id, so the
stream's duplicate window does not swallow it) and removes it from the dead-letter stream.
If it fails again, it comes back to the dead-letter stream with the new reason.

options:
  --all             replay every dead letter (with --code: only those with that code)
  --code CODE       with --all, only entries with this error code
${BUS_OPTIONS_HELP}`,
  async run(args, io) {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: { ...BUS_OPTIONS, all: { type: "boolean" }, code: { type: "string" } },
    });
    if (values.all !== true && positionals.length === 0)
      throw new UsageError("give dead-letter sequences or --all");
    const bus = await openBus(values, io);
    try {
      const jsm = await bus.nc.jetstreamManager();
      const js = bus.nc.jetstream();
      const sequences =
        values.all === true
          ? (await listDeadLetters(jsm, bus.topology, { limit: Number.MAX_SAFE_INTEGER }))
              .filter((l) => values.code === undefined || l.code === values.code)
              .map((l) => l.dlqSequence)
          : positionals.map((p) => positiveInt(p, "SEQ")!);
      let failed = 0;
      for (const seq of sequences) {
        try {
          const result = await replayDeadLetter(js, jsm, bus.topology, seq);
          io.stdout.write(`replayed ${seq} → ${result.subject} (stream sequence ${result.sequence})\n`);
        } catch (err) {
          failed++;
          io.stderr.write(`hix dlq replay: ${seq}: ${err instanceof Error ? err.message : String(err)}\n`);
        }
      }
      io.stdout.write(`${sequences.length - failed} replayed, ${failed} failed\n`);
      return failed === 0 ? EXIT.ok : EXIT.failed;
    } finally {
      await bus.close();
    }
  },
};

function summary(l: DeadLetter): Record<string, string | number> {
  return {
    sequence: l.dlqSequence,
    failedAt: l.failedAt,
    code: l.code,
    reason: l.reason,
    consumer: l.consumer,
    stream: l.originalStream,
    streamSequence: l.originalSequence,
    subject: l.originalSubject,
    deliveries: l.deliveries,
    msgId: l.msgId ?? "",
    bytes: l.data.byteLength,
  };
}

function envelopeSummary(data: Uint8Array): Record<string, string> | string {
  try {
    const e = decodeEnvelope(data);
    return {
      id: e.id,
      kind: envelopeKind(e) ?? "none",
      from: e.fromFacility,
      to: e.toFacility,
      correlationId: e.correlationId,
      createdAt: e.createdAt?.toISOString() ?? "",
    };
  } catch {
    return `not a hix envelope (${data.byteLength} bytes)`;
  }
}

function positiveInt(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name} must be a positive whole number`);
  return n;
}
