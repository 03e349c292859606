/**
 * Alerts: a row in the review queue (mpi_alerts), and an IdentityAlert envelope to each facility
 * concerned on `hix.out.<facility>.identity_alert` (HIX_OUT). The table is the outbox: an alert is
 * raised inside the transaction of its cause and published after commit; whatever is still
 * unpublished (a crash, NATS down) is published by the next flush. Each envelope's Nats-Msg-Id
 * is derived from the alert id and facility, so a repeated flush is dropped by JetStream dedupe.
 */
import type pg from "pg";
import { withTransaction } from "@hix/db";
import type { JetStreamClient } from "nats";
import { publishEnvelope, type Topology } from "@hix/bus";
import {
  IdentityAlert,
  IdentityAlertKind,
  PurposeOfUse,
  newEnvelope,
  newId,
  type PatientRecordRef,
} from "@hix/proto";
import { probability } from "./rules.js";

type Db = Pick<pg.PoolClient, "query">;

export type AlertKind = "duplicate" | "cross-facility-link" | "conflict";

/** The facility id alerts are sent from (hix itself, not a facility). */
export const RECONCILER_FACILITY_ID = "hix-reconciler";

export interface NewAlert {
  readonly kind: AlertKind;
  readonly recordA: number;
  readonly recordB: number;
  /** Bits (linkage score); 0 for a conflict on one record. */
  readonly score: number;
  /** Field names only, no values. */
  readonly reason: string;
  readonly autoLinked: boolean;
  readonly ruleVersion: string;
}

/** Queues an alert unless the same kind is already open for the pair. Returns its id if new. */
export async function raiseAlert(db: Db, alert: NewAlert): Promise<string | undefined> {
  const [a, b] =
    alert.recordA <= alert.recordB ? [alert.recordA, alert.recordB] : [alert.recordB, alert.recordA];
  const alertId = newId();
  const { rowCount } = await db.query(
    `INSERT INTO mpi_alerts (alert_id, kind, record_a, record_b, score, reason, auto_linked, rule_version)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (kind, record_a, record_b) WHERE status = 'open' DO NOTHING`,
    [alertId, alert.kind, a, b, alert.score, alert.reason, alert.autoLinked, alert.ruleVersion],
  );
  return rowCount === 0 ? undefined : alertId;
}

const KIND: Record<AlertKind, IdentityAlertKind> = {
  duplicate: IdentityAlertKind.DUPLICATE,
  "cross-facility-link": IdentityAlertKind.CROSS_FACILITY_LINK,
  conflict: IdentityAlertKind.CONFLICT,
};

interface OutboxRow {
  alert_id: string;
  kind: AlertKind;
  score: number;
  reason: string;
  raised_at: Date;
  a_facility: string;
  a_local: string;
  b_facility: string;
  b_local: string;
  a_id: string;
  b_id: string;
}

/**
 * Publishes unpublished alerts (oldest first, at most `limit`) and marks them published.
 * Throws when NATS refuses; what was not marked is tried again next time.
 */
export async function flushAlerts(
  pool: pg.Pool,
  js: JetStreamClient,
  topology: Topology,
  limit = 100,
): Promise<number> {
  // Every handler and the periodic flusher call this at once; SKIP LOCKED gives each unpublished
  // alert to exactly one of them, so a facility is told once (not once per concurrent flusher:
  // JetStream de-duplicates the stored copy, but live subscribers would see every publish).
  return withTransaction(pool, async (db) => {
    const { rows } = await db.query<OutboxRow>(
      `SELECT a.alert_id, a.kind, a.score, a.reason, a.raised_at, a.record_a AS a_id, a.record_b AS b_id,
              ra.facility_id AS a_facility, ra.local_id AS a_local, rb.facility_id AS b_facility, rb.local_id AS b_local
       FROM mpi_alerts a JOIN mpi_records ra ON ra.id = a.record_a JOIN mpi_records rb ON rb.id = a.record_b
       WHERE a.published_at IS NULL ORDER BY a.raised_at, a.alert_id LIMIT $1
       FOR UPDATE OF a SKIP LOCKED`,
      [limit],
    );
    for (const row of rows) {
      const records: PatientRecordRef[] = [{ facilityId: row.a_facility, localPatientId: row.a_local }];
      if (row.a_id !== row.b_id) records.push({ facilityId: row.b_facility, localPatientId: row.b_local });
      const body = IdentityAlert.fromPartial({
        alertId: row.alert_id,
        kind: KIND[row.kind],
        records,
        score: row.kind === "conflict" && row.a_id === row.b_id ? 0 : probability(row.score),
        reason: row.reason,
        raisedAt: row.raised_at,
      });
      // Each facility concerned learns of it, about its own records and the other side's ref.
      for (const facility of new Set(records.map((r) => r.facilityId))) {
        const envelope = newEnvelope({
          fromFacility: RECONCILER_FACILITY_ID,
          toFacility: facility,
          purposeOfUse: PurposeOfUse.OPERATIONS,
          body: { $case: "identityAlert", value: body },
        });
        await publishEnvelope(js, topology.outSubject(facility, "identity_alert"), envelope, {
          msgId: `alert-${row.alert_id}-${facility}`,
          expectStream: topology.streams.out.name,
        });
      }
      await db.query("UPDATE mpi_alerts SET published_at = now() WHERE alert_id = $1", [row.alert_id]);
    }
    return rows.length;
  });
}
