import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { publishEnvelope, subjectKind } from "@hix/bus";
import {
  Envelope,
  PurposeOfUse,
  ReceiptStatus,
  decodeEnvelope,
  envelopeKind,
  newEnvelope,
  purposeOfUseFromJSON,
  receiptStatusToJSON,
  unbatch,
} from "@hix/proto";
import { EXIT, UsageError, type Command } from "../command.js";
import { BUS_OPTIONS, BUS_OPTIONS_HELP, openBus } from "../bus-options.js";

export const send: Command = {
  path: ["send"],
  summary: "submit a record request, transfer, referral or receipt from a JSON file, and watch what happens",
  help: `usage: hix send FILE|- [--from FACILITY] [--to FACILITY] [--purpose P] [--wait SECONDS] [--json]

Submits one envelope on behalf of a facility, as its adapter would: the file is a hix.v1.Envelope
in proto3 JSON with exactly one body (recordRequest, recordTransfer, referralPacket,
patientAnnouncement or receipt). The id, creation time and content hash are filled in; the
correlation id defaults to the new id. Then it waits for what the exchange says back (receipts,
transfers) to the sender and prints each as it arrives.

options:
  --from FACILITY   sending facility (overrides fromFacility in the file)
  --to FACILITY     destination (overrides toFacility; leave empty for the router to resolve)
  --purpose P       purpose of use, e.g. TREATMENT, REFERRAL (overrides purposeOfUse)
  --wait SECONDS    how long to watch for replies (default 5; 0 = do not wait)
  --json            print the sent envelope id and each reply as JSON lines
${BUS_OPTIONS_HELP}

exit codes: 0 sent (and nothing rejected it) · 1 a 'rejected' receipt came back · 2 bad file · 3 NATS unreachable

example:
  hix send request.json --from hospital-a --wait 10`,
  async run(args, io) {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        ...BUS_OPTIONS,
        from: { type: "string" },
        to: { type: "string" },
        purpose: { type: "string" },
        wait: { type: "string" },
        json: { type: "boolean" },
      },
    });
    const file = positionals[0];
    if (file === undefined) throw new UsageError("give the envelope file (JSON), or - for standard input");
    const envelope = readEnvelope(file, values);
    const waitSeconds = values.wait === undefined ? 5 : Number(values.wait);
    if (!(waitSeconds >= 0)) throw new UsageError("--wait must be a number of seconds");

    const bus = await openBus(values, io);
    try {
      const kind = subjectKind(envelope)!;
      const replies = bus.nc.subscribe(bus.topology.outSubject(envelope.fromFacility, "*"));
      await bus.nc.flush();
      const ack = await publishEnvelope(
        bus.nc.jetstream(),
        bus.topology.inSubject(envelope.fromFacility, kind),
        envelope,
        { expectStream: bus.topology.streams.in.name },
      );
      if (values.json === true)
        io.stdout.write(`${JSON.stringify({ sent: envelope.id, kind, sequence: ack.seq })}\n`);
      else
        io.stdout.write(
          `sent ${kind} ${envelope.id} from ${envelope.fromFacility} (stream sequence ${ack.seq})\n`,
        );

      let rejected = false;
      const timer = setTimeout(() => replies.unsubscribe(), waitSeconds * 1000);
      for await (const msg of replies) {
        let carried: Envelope[];
        try {
          carried = unbatch(decodeEnvelope(msg.data));
        } catch {
          continue;
        }
        for (const reply of carried) {
          if (reply.correlationId !== envelope.correlationId && reply.causationId !== envelope.id) continue;
          const line = describeReply(reply);
          if (line.status === "REJECTED") rejected = true;
          io.stdout.write(values.json === true ? `${JSON.stringify(line)}\n` : `  ← ${line.text}\n`);
        }
      }
      clearTimeout(timer);
      return rejected ? EXIT.failed : EXIT.ok;
    } finally {
      await bus.close();
    }
  },
};

function readEnvelope(
  file: string,
  values: { from?: string | undefined; to?: string | undefined; purpose?: string | undefined },
): Envelope {
  let text: string;
  try {
    text = readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? "error"}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // V8's message quotes the text around the error, and this file holds patient criteria.
    throw new UsageError(`${file} is not valid JSON (${text.length} characters)`);
  }
  const parsed = Envelope.fromJSON(json);
  if (parsed.body === undefined) {
    throw new UsageError(
      `${file} has no body: give one of recordRequest, recordTransfer, referralPacket, patientAnnouncement, receipt`,
    );
  }
  const fromFacility = values.from ?? parsed.fromFacility;
  if (fromFacility === "")
    throw new UsageError("no sending facility: set fromFacility in the file or pass --from");
  const purposeOfUse =
    values.purpose === undefined
      ? parsed.purposeOfUse
      : purposeOfUseFromJSON(values.purpose.toUpperCase().replace(/^(?!PURPOSE_OF_USE_)/, "PURPOSE_OF_USE_"));
  if (purposeOfUse === PurposeOfUse.UNSPECIFIED || purposeOfUse === PurposeOfUse.UNRECOGNIZED) {
    throw new UsageError(
      "no purpose of use: set purposeOfUse in the file or pass --purpose (e.g. TREATMENT)",
    );
  }
  const toFacility = values.to ?? parsed.toFacility;
  return newEnvelope({
    fromFacility,
    ...(toFacility === "" ? {} : { toFacility }),
    purposeOfUse,
    sensitivity: parsed.sensitivity,
    ...(parsed.correlationId === "" ? {} : { correlationId: parsed.correlationId }),
    ...(parsed.causationId === "" ? {} : { causationId: parsed.causationId }),
    body: parsed.body,
  });
}

/** One line about a reply — status, codes and ids; never patient content. */
function describeReply(reply: Envelope): { id: string; kind: string; status?: string; text: string } {
  const kind = envelopeKind(reply) ?? "none";
  if (reply.body?.$case === "receipt") {
    const r = reply.body.value;
    const status = receiptStatusToJSON(r.status).replace("RECEIPT_STATUS_", "");
    const facility = r.facilityId === "" ? "" : ` (${r.facilityId})`;
    return {
      id: reply.id,
      kind,
      status: r.status === ReceiptStatus.UNSPECIFIED ? "UNSPECIFIED" : status,
      text: `receipt ${status}${facility} ${r.code}${r.reason === "" ? "" : ` — ${r.reason}`}`,
    };
  }
  if (reply.body?.$case === "recordTransfer") {
    const t = reply.body.value;
    return {
      id: reply.id,
      kind,
      text: `record transfer from ${reply.fromFacility}: ${t.records.length} record(s)`,
    };
  }
  return { id: reply.id, kind, text: `${kind} from ${reply.fromFacility}` };
}
