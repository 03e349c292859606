/**
 * The reconciler's processing order for one message from HIX_IN, in one place:
 *
 *   decode (envelopeHandler: not an Envelope → dead letter)
 *   → extract the patient (announcement, or the patient of exchange traffic) — none: ack
 *   → validate (a facility speaks only for its own records: patient.source_facility = sender)
 *   → in ONE PostgreSQL transaction: claim the envelope id (seen before → nothing to do)
 *       → match into the index (matcher.ts: upsert, conflicts, A40, candidates, links, alerts)
 *   → publish the alerts raised (outbox flush; a failure → retry, the next flush sends them)
 *   → ack
 */
import type pg from "pg";
import type { JetStreamClient } from "nats";
import { ack, envelopeHandler, reject, retry, type Handler, type Topology } from "@hix/bus";
import { withTransaction } from "@hix/db";
import { AnnouncementKind, type Envelope, type Patient } from "@hix/proto";
import { errorCode, isRetryable, type Logger } from "@hix/runtime";
import { flushAlerts } from "./alerts.js";
import { matchPatient, type Intake, type MatchOutcome } from "./matcher.js";
import { isIndexable, patientToRecord } from "./patient-record.js";
import type { Rule } from "./rules.js";

export interface PipelineDeps {
  readonly pool: pg.Pool;
  readonly js: JetStreamClient;
  readonly topology: Topology;
  readonly rule: Rule;
  readonly logger: Logger;
}

interface Extracted {
  readonly patient: Patient | undefined;
  readonly intake: Intake;
  readonly retired: readonly string[];
}

/** The patient a message is about, and how authoritative it is. */
export function extractPatient(envelope: Envelope): Extracted | undefined {
  const body = envelope.body;
  switch (body?.$case) {
    case "patientAnnouncement": {
      const a = body.value;
      const intake: Intake =
        a.kind === AnnouncementKind.MERGED
          ? "merged"
          : a.kind === AnnouncementKind.UPDATED
            ? "updated"
            : "registered";
      return {
        patient: a.patient,
        intake,
        retired: a.retiredIds.map((i) => i.value).filter((v) => v !== ""),
      };
    }
    case "recordRequest":
    case "recordTransfer":
    case "referralPacket":
      return { patient: body.value.patient, intake: "seen", retired: [] };
    default:
      return undefined;
  }
}

/** Claims an envelope id; false when it was applied before (same transaction as the effect). */
async function claim(db: Pick<pg.PoolClient, "query">, envelopeId: string): Promise<boolean> {
  const { rowCount } = await db.query(
    "INSERT INTO mpi_processed (envelope_id) VALUES ($1) ON CONFLICT DO NOTHING",
    [envelopeId],
  );
  return rowCount === 1;
}

export type ApplyResult = { readonly applied: false } | ({ readonly applied: true } & MatchOutcome);

/** Applies one envelope's patient to the index, exactly once per envelope id. */
export async function applyEnvelope(
  pool: pg.Pool,
  rule: Rule,
  envelope: Envelope,
  extracted: Extracted & { patient: Patient },
): Promise<ApplyResult> {
  return withTransaction(pool, async (db) => {
    if (!(await claim(db, envelope.id))) return { applied: false };
    const outcome = await matchPatient(db, rule, {
      facilityId: extracted.patient.sourceFacility,
      localId: extracted.patient.localPatientId,
      record: patientToRecord(extracted.patient),
      intake: extracted.intake,
      retiredLocalIds: extracted.retired,
      envelopeId: envelope.id,
    });
    return { applied: true, ...outcome };
  });
}

export function createPipeline(deps: PipelineDeps): Handler {
  const log = deps.logger.child({ component: "pipeline" });
  return envelopeHandler(async (envelope, delivery) => {
    const extracted = extractPatient(envelope);
    if (extracted === undefined || !isIndexable(extracted.patient)) return ack(); // nothing to learn
    const patient = extracted.patient;
    if (patient.sourceFacility !== envelope.fromFacility) {
      if (extracted.intake === "seen") return ack(); // another facility's view of the patient: not ours to index
      return reject(
        "reconciler.foreign_patient",
        `envelope ${envelope.id} from ${envelope.fromFacility} announces a patient of another facility`,
      );
    }
    let result: ApplyResult;
    try {
      result = await applyEnvelope(deps.pool, deps.rule, envelope, { ...extracted, patient });
    } catch (err) {
      const code = errorCode(err);
      log.warn(
        { envelopeId: envelope.id, code, err: { name: err instanceof Error ? err.name : "unknown" } },
        "match failed",
      );
      return isRetryable(err)
        ? retry(code, `envelope ${envelope.id}: index update failed, will retry`)
        : reject(code, `envelope ${envelope.id}: index update failed permanently`);
    }
    try {
      await flushAlerts(deps.pool, deps.js, deps.topology);
    } catch {
      return retry(
        "reconciler.alert_publish",
        `envelope ${envelope.id}: alerts stored but not yet published`,
      );
    }
    log.info(
      result.applied
        ? {
            envelopeId: envelope.id,
            subject: delivery.subject,
            recordId: result.recordId,
            changed: result.changed,
            candidates: result.candidates,
            linked: result.linked,
            alerts: result.alerts,
          }
        : { envelopeId: envelope.id, subject: delivery.subject, duplicate: true },
      result.applied ? "patient matched" : "envelope already applied",
    );
    return ack();
  });
}
