import { parseArgs } from "node:util";
import { SUBJECT_CATALOG } from "@hix/bus";
import { decodeByTypeName } from "@hix/proto";
import { redactPhi } from "@hix/runtime";
import { EXIT, UsageError, type Command } from "../command.js";
import { BUS_OPTIONS, BUS_OPTIONS_HELP, openBus } from "../bus-options.js";

export const tail: Command = {
  path: ["tail"],
  summary: "watch exchange traffic live, decoded, with PHI masked",
  help: `usage: hix tail [--subject PATTERN] [--count N] [--unmask] [--json]

Prints one line per message seen on the exchange's subjects (hix.>): time, subject, the
protobuf type it carries and, for envelopes, id, kind, sender and destination. With --json
the whole decoded message is printed, with patient fields masked.

options:
  --subject PATTERN  NATS subject pattern under the topology (default: hix.>)
  --count N          stop after N messages
  --unmask           print patient fields too (only for debugging synthetic data)
  --json             print each decoded message as JSON
${BUS_OPTIONS_HELP}`,
  async run(args, io) {
    const { values } = parseArgs({
      args: [...args],
      options: {
        ...BUS_OPTIONS,
        subject: { type: "string" },
        count: { type: "string" },
        unmask: { type: "boolean" },
        json: { type: "boolean" },
      },
    });
    const count = values.count === undefined ? Infinity : Number(values.count);
    if (!(count > 0)) throw new UsageError("--count must be a positive number");
    const bus = await openBus(values, io);
    const root = bus.topology.prefix === "" ? "" : `${bus.topology.prefix}.`;
    const sub = bus.nc.subscribe(
      `${root}${values.subject ?? "hix.>"}`,
      count === Infinity ? {} : { max: count },
    );
    await bus.nc.flush();
    io.stderr.write(`watching ${sub.getSubject()} (Ctrl-C to stop)\n`);
    const stop = (): void => sub.unsubscribe();
    process.once("SIGINT", stop);
    try {
      for await (const msg of sub) {
        const relative = root === "" ? msg.subject : msg.subject.slice(root.length);
        const type = typeFor(relative);
        let decoded: Record<string, unknown> | undefined;
        if (type !== undefined && type !== "bytes") {
          decoded = await decodeByTypeName(type, msg.data).catch(() => undefined);
        }
        // The oneof case name ("body": "record_request") says what it is, not whom it is about.
        const shown =
          decoded === undefined || values.unmask === true
            ? decoded
            : { ...(redactPhi(decoded) as Record<string, unknown>), body: decoded["body"] };
        const time = new Date().toISOString();
        if (values.json === true) {
          io.stdout.write(
            `${JSON.stringify({ time, subject: msg.subject, type: type ?? "unknown", bytes: msg.data.byteLength, message: shown })}\n`,
          );
        } else {
          const field = (key: string): string => (typeof shown?.[key] === "string" ? shown[key] : "");
          const head =
            shown !== undefined && typeof shown["body"] === "string"
              ? ` id=${field("id")} kind=${field("body")} from=${field("from_facility")} to=${field("to_facility")}`
              : "";
          io.stdout.write(`${time} ${msg.subject} ${type ?? "unknown"} ${msg.data.byteLength}B${head}\n`);
        }
      }
      return EXIT.ok;
    } finally {
      process.off("SIGINT", stop);
      await bus.close();
    }
  },
};

/** The protobuf type a subject carries, from the catalog in @hix/bus. */
function typeFor(subject: string): string | undefined {
  const tokens = subject.split(".");
  for (const entry of SUBJECT_CATALOG) {
    const pattern = entry.pattern.split(".");
    const matches = pattern.length === tokens.length && pattern.every((p, i) => p === "*" || p === tokens[i]);
    if (matches) return entry.type;
  }
  return undefined;
}
