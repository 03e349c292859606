/**
 * The writes one incremental match decided — decision events, links, the enterprise merge they
 * imply, alerts — in one statement (one round trip), instead of one per row. Data-modifying
 * CTEs all run; the links' foreign keys to their events are checked at the end of the
 * statement, when the events are in. Same rows and conflict rules as recordEvent, linkRecords
 * and raiseAlert, which review decisions still use one at a time.
 */
import type pg from "pg";
import type { AlertKind } from "./alerts.js";
import type { EventKind, LinkOrigin } from "./links.js";
import { ordered } from "./mpi-store.js";

type Db = Pick<pg.PoolClient, "query">;

export interface EventRow {
  readonly eventId: string;
  readonly kind: EventKind;
  readonly recordA: number;
  readonly recordB: number | undefined;
  readonly ruleVersion: string | undefined;
  readonly score: number | undefined;
  readonly actor: string;
  readonly reason: string;
  readonly envelopeId: string | undefined;
  readonly detail: Record<string, unknown>;
}

export interface LinkRow {
  readonly a: number;
  readonly b: number;
  /** 0..1 (probability of the score). */
  readonly score: number;
  readonly origin: LinkOrigin;
  readonly ruleVersion: string;
  readonly reason: Record<string, unknown>;
  readonly eventId: string;
}

export interface AlertRow {
  readonly alertId: string;
  readonly kind: AlertKind;
  readonly recordA: number;
  readonly recordB: number;
  /** Bits. */
  readonly score: number;
  readonly reason: string;
  readonly autoLinked: boolean;
  readonly ruleVersion: string;
}

export interface Decisions {
  readonly events: readonly EventRow[];
  readonly links: readonly LinkRow[];
  /** Enterprise ids joined by the links: every record of `drop` moves to `keep`. */
  readonly merge: { readonly keep: string; readonly drop: readonly string[] } | undefined;
  readonly alerts: readonly AlertRow[];
}

/** Writes `d`; returns the links made and the alerts queued (an open alert of the same kind
 * and pair is not queued twice). */
export async function writeDecisions(db: Db, d: Decisions): Promise<{ links: number; alerts: number }> {
  if (d.events.length + d.links.length + d.alerts.length === 0 && d.merge === undefined)
    return { links: 0, alerts: 0 };
  const links = d.links.map((l) => ({ ...l, pair: ordered(l.a, l.b) }));
  const alerts = d.alerts.map((x) => ({ ...x, pair: ordered(x.recordA, x.recordB) }));
  const { rows } = await db.query<{ links: string; alerts: string }>(
    `WITH ev AS (
       INSERT INTO mpi_events
         (event_id, kind, record_a, record_b, rule_version, score, actor, reason, envelope_id, detail)
       SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[],
                            $6::float8[], $7::text[], $8::text[], $9::text[], $10::jsonb[])
     ), ln AS (
       INSERT INTO mpi_links (record_a, record_b, score, origin, rule_version, reason, event_id)
       SELECT * FROM unnest($11::bigint[], $12::bigint[], $13::float8[], $14::text[], $15::text[],
                            $16::jsonb[], $17::text[])
       ON CONFLICT (record_a, record_b) WHERE active DO NOTHING
       RETURNING id
     ), en AS (
       UPDATE mpi_records SET enterprise_id = $18 WHERE enterprise_id = ANY($19::text[])
     ), al AS (
       INSERT INTO mpi_alerts (alert_id, kind, record_a, record_b, score, reason, auto_linked, rule_version)
       SELECT * FROM unnest($20::text[], $21::text[], $22::bigint[], $23::bigint[], $24::float8[],
                            $25::text[], $26::boolean[], $27::text[])
       ON CONFLICT (kind, record_a, record_b) WHERE status = 'open' DO NOTHING
       RETURNING alert_id
     )
     SELECT (SELECT count(*) FROM ln) AS links, (SELECT count(*) FROM al) AS alerts`,
    [
      d.events.map((e) => e.eventId),
      d.events.map((e) => e.kind),
      d.events.map((e) => e.recordA),
      d.events.map((e) => e.recordB ?? null),
      d.events.map((e) => e.ruleVersion ?? null),
      d.events.map((e) => e.score ?? null),
      d.events.map((e) => e.actor),
      d.events.map((e) => e.reason),
      d.events.map((e) => e.envelopeId ?? null),
      d.events.map((e) => JSON.stringify(e.detail)),
      links.map((l) => l.pair[0]),
      links.map((l) => l.pair[1]),
      links.map((l) => l.score),
      links.map((l) => l.origin),
      links.map((l) => l.ruleVersion),
      links.map((l) => JSON.stringify(l.reason)),
      links.map((l) => l.eventId),
      d.merge?.keep ?? null,
      d.merge?.drop ?? [],
      alerts.map((x) => x.alertId),
      alerts.map((x) => x.kind),
      alerts.map((x) => x.pair[0]),
      alerts.map((x) => x.pair[1]),
      alerts.map((x) => x.score),
      alerts.map((x) => x.reason),
      alerts.map((x) => x.autoLinked),
      alerts.map((x) => x.ruleVersion),
    ],
  );
  return { links: Number(rows[0]!.links), alerts: Number(rows[0]!.alerts) };
}
