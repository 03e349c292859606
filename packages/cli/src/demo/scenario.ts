// The demo's flows, in the order a newcomer reads them. Each step acts as a facility would
// (MLLP, FHIR HTTP, an inbox folder, `hix send`) and then waits for what the exchange must do.
import { existsSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { NatsConnection } from "nats";
import pg from "pg";
import { connectMllp } from "@hix/adapter-kit";
import { listDeadLetters, publishEnvelope, type Topology } from "@hix/bus";
import { fhirToCanonical } from "@hix/fhir";
import {
  IdentityAlertKind,
  PurposeOfUse,
  ReceiptStatus,
  RecordCategory,
  TransferOutcome,
  newEnvelope,
  type Envelope,
  type Patient,
} from "@hix/proto";
import { FACILITIES, type DemoWorkspace } from "./workspace.js";
import { auditVerify } from "../commands/audit-verify.js";
import { runCommand } from "../stack/stack.js";
import { isAlert, isReceipt, type Observer } from "./observer.js";

export interface StepResult {
  readonly name: string;
  readonly ok: boolean;
  readonly ms: number;
  readonly detail: string;
}

export interface ScenarioContext {
  readonly nc: NatsConnection;
  readonly topology: Topology;
  readonly workspace: DemoWorkspace;
  readonly observer: Observer;
  readonly databaseUrl: string;
  /** Prints one timeline line. */
  readonly say: (text: string) => void;
}

const WAIT = 30_000;

class StepFailed extends Error {}
const need = <T>(value: T | undefined | null | false, what: string): T => {
  if (value === undefined || value === null || value === false) throw new StepFailed(what);
  return value;
};

export async function runScenario(ctx: ScenarioContext): Promise<StepResult[]> {
  const results: StepResult[] = [];
  const step = async (name: string, body: () => Promise<string>): Promise<void> => {
    const started = Date.now();
    ctx.say(`▶ ${name}`);
    try {
      const detail = await body();
      results.push({ name, ok: true, ms: Date.now() - started, detail });
      ctx.say(`  ✔ ${detail} (${Date.now() - started} ms)`);
    } catch (err) {
      const detail =
        err instanceof StepFailed
          ? err.message
          : `${err instanceof Error ? err.name : "error"}: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`;
      results.push({ name, ok: false, ms: Date.now() - started, detail });
      ctx.say(`  ✘ ${detail}`);
    }
  };
  const { workspace: ws, observer } = ctx;
  const js = ctx.nc.jetstream();
  const { hospital, clinic, practice } = FACILITIES;

  await step("the clinic registers patients over FHIR R4 (one of them twice, misspelt)", async () => {
    for (const bundle of ws.clinicRegistrations) {
      const res = await fetch(`http://127.0.0.1:${ws.fhirPort}/`, {
        method: "POST",
        headers: { "content-type": "application/fhir+json" },
        body: bundle,
      });
      need(res.ok, `the clinic's FHIR endpoint answered ${res.status}`);
    }
    return `${ws.clinicRegistrations.length} Patient bundles accepted by the clinic's adapter`;
  });

  await step("the practice drops its patient export (CSV) into its inbox", async () => {
    const file = join(ws.dirs.practiceInbox, "patients.csv");
    writeFileSync(`${file}.part`, ws.practiceExport);
    renameSync(`${file}.part`, file);
    await until(() => existsSync(join(ws.dirs.practiceInbox, "done", "patients.csv")), WAIT);
    return `${ws.practiceExport.trim().split("\n").length - 1} patients announced; file moved to inbox/done/`;
  });

  await step("the reconciler flags the clinic's duplicate file", async () => {
    const alert = need(
      await observer.waitFor(isAlert(clinic, IdentityAlertKind.DUPLICATE), WAIT),
      "no duplicate alert reached the clinic",
    );
    return `duplicate alert ${alertId(alert.envelope)} delivered to the clinic and queued for review`;
  });

  await step("the reconciler links the patient's records at the clinic and the practice", async () => {
    need(
      await observer.waitFor(isAlert(practice, IdentityAlertKind.CROSS_FACILITY_LINK), WAIT),
      "no cross-facility link alert reached the practice",
    );
    return "cross-facility link recorded (this feeds the record locator)";
  });

  await step(
    "the hospital registers a patient over MLLP, then sends an update that changes birth date and sex",
    async () => {
      const client = await connectMllp({ host: "127.0.0.1", port: ws.mllpPort, ackTimeoutMs: 15_000 });
      try {
        const acks = [
          await client.send(ws.hospitalAdt.register),
          await client.send(ws.hospitalAdt.conflictingUpdate),
        ];
        for (const ack of acks)
          need(/\rMSA\|AA\|/.test(ack.replace(/\n/g, "\r")), `expected AA, got ${ackCode(ack)}`);
      } finally {
        await client.close();
      }
      const alert = need(
        await observer.waitFor(isAlert(hospital, IdentityAlertKind.CONFLICT), WAIT),
        "no conflict alert reached the hospital",
      );
      return `2 × ACK AA (sent only after JetStream stored each message); conflict alert ${alertId(alert.envelope)} to the hospital`;
    },
  );

  await step("the hospital locates the patient and requests her records from every holder", async () => {
    const announcement = fhirToCanonical(ws.soughtPatient).bodies[0];
    const patient: Patient | undefined =
      announcement?.$case === "patientAnnouncement" ? announcement.value.patient : undefined;
    const request = newEnvelope({
      fromFacility: hospital,
      purposeOfUse: PurposeOfUse.TREATMENT,
      body: {
        $case: "recordRequest",
        value: {
          patient: need(patient, "could not build the patient criteria"),
          holder: { $case: "locate", value: { minScore: 0, maxHolders: 0, excludeFacilityIds: [] } },
          categories: [
            RecordCategory.CONDITIONS,
            RecordCategory.OBSERVATIONS,
            RecordCategory.IMMUNIZATIONS,
            RecordCategory.ENCOUNTERS,
          ],
          deadline: new Date(Date.now() + 120_000),
          reason: "admission: continuity of care",
        } as never,
      },
    });
    await publishEnvelope(js, ctx.topology.inSubject(hospital, "record_request"), request);
    const fromClinic = await observer.waitFor(isTransferTo(hospital, clinic, request.id), WAIT);
    const fromPractice = await observer.waitFor(isTransferTo(hospital, practice, request.id), WAIT);
    need(
      fromClinic && fromPractice,
      `transfers arrived from ${[fromClinic && clinic, fromPractice && practice].filter(Boolean).join(", ") || "no holder"}; expected the clinic and the practice`,
    );
    const entries = [fromClinic!, fromPractice!].map(countEntries);
    await until(() => readdirSync(ws.dirs.hospitalOutbox).length > 0, WAIT);
    return `records from the clinic (${entries[0]} entries) and the practice (${entries[1]}) delivered; rendered as HL7 v2 in the hospital's outbox`;
  });

  await step(
    "the practice sends a referral packet (C-CDA Referral Note) to the hospital, which accepts it",
    async () => {
      const file = join(ws.dirs.practiceInbox, "referral-note.xml");
      writeFileSync(`${file}.part`, ws.referralNote);
      renameSync(`${file}.part`, file);
      const delivered = need(
        await observer.waitFor(
          (s) => s.facility === hospital && s.envelope.body?.$case === "referralPacket",
          WAIT,
        ),
        "the referral was not delivered to the hospital",
      );
      const referral = delivered.envelope;
      const acceptance = newEnvelope({
        fromFacility: hospital,
        toFacility: referral.fromFacility,
        purposeOfUse: PurposeOfUse.REFERRAL,
        correlationId: referral.correlationId,
        causationId: referral.id,
        body: {
          $case: "receipt",
          value: {
            regardingId: referral.id,
            status: ReceiptStatus.ACCEPTED,
            code: "referral.accepted",
            reason: "accepted by cardiology; appointment to follow",
            facilityId: hospital,
          },
        },
      });
      await publishEnvelope(js, ctx.topology.inSubject(hospital, "receipt"), acceptance);
      need(
        await observer.waitFor(isReceipt(practice, referral.id, ReceiptStatus.ACCEPTED), WAIT),
        "the practice did not get the hospital's acceptance",
      );
      return `referral ${referral.id} delivered to the hospital; its acceptance reached the practice`;
    },
  );

  await step("the hospital's system sends a garbled message (birth month 13)", async () => {
    const client = await connectMllp({ host: "127.0.0.1", port: ws.mllpPort, ackTimeoutMs: 15_000 });
    let ack: string;
    try {
      ack = await client.send(ws.malformedHl7);
    } finally {
      await client.close();
    }
    const code = ackCode(ack);
    need(code === "AE" || code === "AR", `expected AE or AR, got ${code}`);
    await until(() => readdirSync(ws.dirs.hospitalQuarantine).some((f) => f.endsWith(".reason.txt")), WAIT);
    return `ACK ${code} naming ${errLocation(ack)}; the original kept in quarantine with its reason`;
  });

  await step("a broken client publishes bytes that are not an envelope", async () => {
    const jsm = await ctx.nc.jetstreamManager();
    const before = (await listDeadLetters(jsm, ctx.topology, { limit: 1000 })).length;
    await js.publish(
      ctx.topology.inSubject(hospital, "record_request"),
      new TextEncoder().encode("PID|||not protobuf"),
      { msgID: `demo-garbage-${Date.now()}` },
    );
    await until(
      async () => (await listDeadLetters(jsm, ctx.topology, { limit: 1000 })).length > before,
      WAIT,
    );
    await until(
      async () =>
        (await listDeadLetters(jsm, ctx.topology, { limit: 1000 })).some((l) => l.consumer === "router"),
      WAIT,
    );
    const letters = (await listDeadLetters(jsm, ctx.topology, { limit: 1000 })).slice(before);
    const router = need(
      letters.find((l) => l.consumer === "router"),
      "the router did not dead-letter it",
    );
    return `dead-lettered by ${letters.map((l) => l.consumer).join(" and ")} (each reads HIX_IN): ${router.code} — ${router.reason}`;
  });

  await step("the audit ledger holds every disclosure and its hash chain verifies", async () => {
    const client = new pg.Client({ connectionString: ctx.databaseUrl });
    await client.connect();
    let n: number;
    try {
      const rows = await client.query<{ n: string }>("SELECT count(*) AS n FROM audit_ledger");
      n = Number(rows.rows[0]?.n ?? 0);
    } finally {
      await client.end();
    }
    need(n > 0, "the audit ledger is empty");
    const verified = await runCommand(auditVerify, ["--database-url", ctx.databaseUrl], {});
    return `${n} audit rows; hix audit verify: ${verified.trim().split("\n").at(-1) ?? ""}`;
  });

  return results;
}

const isTransferTo =
  (to: string, from: string, requestId: string) => (s: { facility: string; envelope: Envelope }) =>
    s.facility === to &&
    s.envelope.fromFacility === from &&
    s.envelope.body?.$case === "recordTransfer" &&
    s.envelope.body.value.inReplyTo === requestId &&
    s.envelope.body.value.outcome === TransferOutcome.RECORDS;

function countEntries(s: { envelope: Envelope }): number {
  if (s.envelope.body?.$case !== "recordTransfer") return 0;
  return s.envelope.body.value.records.reduce(
    (n, r) =>
      n +
      r.encounters.length +
      r.observations.length +
      r.conditions.length +
      r.allergies.length +
      r.medications.length +
      r.procedures.length +
      r.immunizations.length +
      r.documents.length,
    0,
  );
}

function alertId(e: Envelope): string {
  return e.body?.$case === "identityAlert" ? e.body.value.alertId : e.id;
}

function ackCode(ack: string): string {
  return /(?:^|[\r\n])MSA\|([A-Z]{2})/.exec(ack)?.[1] ?? "none";
}

/** ERR-2 (error location, SEG^sequence^field…) as people write it: `PID-7`. */
function errLocation(ack: string): string {
  const err = /(?:^|[\r\n])ERR\|[^|]*\|([^|\r\n]*)/.exec(ack)?.[1];
  const [segment, , field] = (err ?? "").split("^");
  return segment === undefined || segment === ""
    ? "the problem"
    : field === undefined || field === ""
      ? segment
      : `${segment}-${field}`;
}

async function until(predicate: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new StepFailed(`timed out after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
