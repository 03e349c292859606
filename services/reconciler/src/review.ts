/**
 * The review workflow of records technicians: the queue of alerts, one alert side by side with
 * its explanation and history, and decisions — link, not-duplicate (remembered: the pair is never
 * proposed or linked again), unlink/unmerge (both records become separate patients again, an A40
 * retirement is undone) and defer. Every decision is an event with who and why.
 */
import type pg from "pg";
import { withTransaction } from "@hix/db";
import { normalizeRecord, type LinkageRecord, type PairExplanation } from "@hix/linkage";
import { HixError } from "@hix/runtime";
import {
  activeLinkBetween,
  detachRecord,
  linkRecords,
  recordEvent,
  rememberNotDuplicate,
  unlinkPair,
  type EventKind,
} from "./links.js";
import { findRecord, ordered, recordsById, setRetired, type StoredRecord } from "./mpi-store.js";
import { explain, ruleFor } from "./rules.js";
import type { AlertKind } from "./alerts.js";

export class ReviewError extends HixError {
  constructor(code: string, message: string) {
    super(code, message, { retryable: false });
    this.name = "ReviewError";
  }
}

export interface AlertSummary {
  readonly alertId: string;
  readonly kind: AlertKind;
  readonly status: "open" | "decided";
  readonly score: number;
  readonly reason: string;
  readonly autoLinked: boolean;
  readonly ruleVersion: string;
  readonly raisedAt: Date;
  readonly records: readonly { facilityId: string; localId: string; recordId: number }[];
}

interface AlertRow {
  alert_id: string;
  kind: AlertKind;
  status: "open" | "decided";
  score: number;
  reason: string;
  auto_linked: boolean;
  rule_version: string;
  raised_at: Date;
  record_a: string;
  record_b: string;
  a_facility: string;
  a_local: string;
  b_facility: string;
  b_local: string;
}

const ALERT_SELECT = `SELECT a.alert_id, a.kind, a.status, a.score, a.reason, a.auto_linked, a.rule_version, a.raised_at,
    a.record_a, a.record_b, ra.facility_id AS a_facility, ra.local_id AS a_local, rb.facility_id AS b_facility, rb.local_id AS b_local
  FROM mpi_alerts a JOIN mpi_records ra ON ra.id = a.record_a JOIN mpi_records rb ON rb.id = a.record_b`;

function toSummary(r: AlertRow): AlertSummary {
  const records = [{ facilityId: r.a_facility, localId: r.a_local, recordId: Number(r.record_a) }];
  if (r.record_a !== r.record_b)
    records.push({ facilityId: r.b_facility, localId: r.b_local, recordId: Number(r.record_b) });
  return {
    alertId: r.alert_id,
    kind: r.kind,
    status: r.status,
    score: r.score,
    reason: r.reason,
    autoLinked: r.auto_linked,
    ruleVersion: r.rule_version,
    raisedAt: r.raised_at,
    records,
  };
}

export async function listAlerts(
  pool: pg.Pool,
  filter: { status?: "open" | "decided" | "all"; kind?: AlertKind; facilityId?: string; limit?: number } = {},
): Promise<AlertSummary[]> {
  const status = filter.status ?? "open";
  const { rows } = await pool.query<AlertRow>(
    `${ALERT_SELECT}
     WHERE ($1 = 'all' OR a.status = $1) AND ($2::text IS NULL OR a.kind = $2)
       AND ($3::text IS NULL OR ra.facility_id = $3 OR rb.facility_id = $3)
     ORDER BY a.raised_at, a.alert_id LIMIT $4`,
    [status, filter.kind ?? null, filter.facilityId ?? null, filter.limit ?? 100],
  );
  return rows.map(toSummary);
}

export interface AlertDetail extends AlertSummary {
  readonly sources: readonly {
    record: LinkageRecord;
    version: number;
    enterpriseId: string;
    retired: boolean;
  }[];
  /** Field-by-field comparison under the alert's rule version (values included: for the reviewer). */
  readonly explanation: PairExplanation | undefined;
  readonly history: readonly { eventId: string; kind: EventKind; actor: string; reason: string; at: Date }[];
}

export async function showAlert(pool: pg.Pool, alertId: string): Promise<AlertDetail> {
  const { rows } = await pool.query<AlertRow>(`${ALERT_SELECT} WHERE a.alert_id = $1`, [alertId]);
  if (rows[0] === undefined) throw new ReviewError("reconciler.unknown_alert", `no alert with id ${alertId}`);
  const summary = toSummary(rows[0]);
  const records = await recordsById(
    pool,
    summary.records.map((r) => r.recordId),
  );
  const rule = ruleFor(summary.ruleVersion);
  const [a, b] = records;
  const explanation =
    a !== undefined && b !== undefined
      ? explain(normalizeRecord(a.record), normalizeRecord(b.record), rule)
      : undefined;
  const history = await pool.query<{
    event_id: string;
    kind: EventKind;
    actor: string;
    reason: string;
    created_at: Date;
  }>(
    `SELECT event_id, kind, actor, reason, created_at FROM mpi_events
     WHERE alert_id = $1 OR (kind <> 'record' AND ((record_a = $2 AND record_b = $3) OR (record_a = $3 AND record_b = $2)))
        OR (kind = 'record' AND record_a = ANY(ARRAY[$2, $3]::bigint[]))
     ORDER BY seq`,
    [alertId, summary.records[0]!.recordId, summary.records[1]?.recordId ?? summary.records[0]!.recordId],
  );
  return {
    ...summary,
    sources: records.map((r) => ({
      record: r.record,
      version: r.version,
      enterpriseId: r.enterpriseId,
      retired: r.retired,
    })),
    explanation,
    history: history.rows.map((h) => ({
      eventId: h.event_id,
      kind: h.kind,
      actor: h.actor,
      reason: h.reason,
      at: h.created_at,
    })),
  };
}

export type ReviewActionName = "link" | "not-duplicate" | "unlink" | "defer";

export interface ReviewInput {
  readonly action: ReviewActionName;
  /** The alert decided on; or name the records with `records`. */
  readonly alertId?: string;
  readonly records?: readonly [
    { facilityId: string; localId: string },
    { facilityId: string; localId: string },
  ];
  /** User id of the reviewer (audited). */
  readonly reviewer: string;
  /** Why (audited). */
  readonly reason: string;
  readonly ruleVersion: string;
}

export interface ReviewResult {
  readonly eventId: string;
  readonly action: ReviewActionName;
  readonly recordIds: readonly number[];
  /** Links made or undone. */
  readonly linksChanged: number;
  readonly enterpriseIds: readonly string[];
}

export async function decide(pool: pg.Pool, input: ReviewInput): Promise<ReviewResult> {
  if (input.reviewer.trim() === "")
    throw new ReviewError("reconciler.review_no_reviewer", "a decision needs the reviewer's id");
  if (input.reason.trim() === "")
    throw new ReviewError("reconciler.review_no_reason", "a decision needs a reason for the audit trail");
  return withTransaction(pool, async (db) => {
    let a: StoredRecord;
    let b: StoredRecord;
    if (input.alertId !== undefined) {
      const { rows } = await db.query<{ record_a: string; record_b: string; status: string }>(
        "SELECT record_a, record_b, status FROM mpi_alerts WHERE alert_id = $1 FOR UPDATE",
        [input.alertId],
      );
      const row = rows[0];
      if (row === undefined)
        throw new ReviewError("reconciler.unknown_alert", `no alert with id ${input.alertId}`);
      if (row.status !== "open")
        throw new ReviewError("reconciler.alert_decided", `alert ${input.alertId} was already decided`);
      const found = await recordsById(db, [Number(row.record_a), Number(row.record_b)]);
      a = found[0]!;
      b = found[1] ?? found[0]!;
    } else if (input.records !== undefined) {
      const [x, y] = input.records;
      const fa = await findRecord(db, x.facilityId, x.localId);
      const fb = await findRecord(db, y.facilityId, y.localId);
      if (fa === undefined || fb === undefined)
        throw new ReviewError("reconciler.unknown_record", "one of the named records is not in the index");
      a = fa;
      b = fb;
    } else {
      throw new ReviewError("reconciler.review_no_subject", "name an alert id or two records");
    }
    const single = a.id === b.id;
    const kind: EventKind =
      input.action === "link"
        ? "review-link"
        : input.action === "not-duplicate"
          ? "not-duplicate"
          : input.action === "unlink"
            ? "unlink"
            : "defer";
    const eventId = await recordEvent(db, {
      kind,
      recordA: a.id,
      ...(single ? {} : { recordB: b.id }),
      ruleVersion: input.ruleVersion,
      actor: input.reviewer,
      reason: input.reason,
      ...(input.alertId === undefined ? {} : { alertId: input.alertId }),
    });
    let linksChanged = 0;
    switch (input.action) {
      case "link": {
        if (single)
          throw new ReviewError(
            "reconciler.review_single_record",
            "link needs two records; this alert names one",
          );
        const [x, y] = ordered(a.id, b.id);
        await db.query("DELETE FROM mpi_not_duplicate WHERE record_a = $1 AND record_b = $2", [x, y]);
        if (
          await linkRecords(db, {
            a: a.id,
            b: b.id,
            score: 1,
            origin: "review",
            ruleVersion: input.ruleVersion,
            reason: { reviewer: input.reviewer },
            eventId,
          })
        )
          linksChanged++;
        break;
      }
      case "not-duplicate":
      case "unlink": {
        if (single) {
          // A conflict on one record: it no longer looks like the person it was linked to.
          if (input.action === "unlink") linksChanged += await detachRecord(db, a.id, eventId);
          break;
        }
        const direct = await activeLinkBetween(db, a.id, b.id);
        if (direct !== undefined) {
          await unlinkPair(db, a.id, b.id, eventId);
          linksChanged++;
        } else if (input.action === "unlink" && a.enterpriseId === b.enterpriseId) {
          linksChanged += await detachRecord(db, b.id, eventId);
        }
        // Unmerge restores both records: an A40 retirement is undone.
        await setRetired(db, a.id, false);
        await setRetired(db, b.id, false);
        // Either way the machine must not link them again on its own.
        await rememberNotDuplicate(db, a.id, b.id, eventId);
        break;
      }
      case "defer":
        break;
    }
    if (input.alertId !== undefined && input.action !== "defer")
      await db.query("UPDATE mpi_alerts SET status = 'decided', decided_by = $2 WHERE alert_id = $1", [
        input.alertId,
        eventId,
      ]);
    const after = await recordsById(db, single ? [a.id] : [a.id, b.id]);
    return {
      eventId,
      action: input.action,
      recordIds: after.map((r) => r.id),
      linksChanged,
      enterpriseIds: after.map((r) => r.enterpriseId),
    };
  });
}
