/**
 * Links, enterprise ids and the decision events behind them. A link joins two records; records
 * joined by active links form one enterprise patient (a connected component) and share its id.
 * Nothing is deleted: unlinking deactivates the link and points at the event that undid it.
 */
import type pg from "pg";
import { newId } from "@hix/proto";
import { ordered } from "./mpi-store.js";

type Db = Pick<pg.PoolClient, "query">;

export type EventKind =
  "record" | "auto-link" | "review-link" | "a40-merge" | "unlink" | "not-duplicate" | "defer";

export interface NewEvent {
  readonly kind: EventKind;
  readonly recordA?: number;
  readonly recordB?: number;
  readonly ruleVersion?: string;
  readonly score?: number;
  readonly actor: string;
  readonly reason?: string;
  readonly alertId?: string;
  readonly envelopeId?: string;
  readonly detail?: Record<string, unknown>;
}

/** Appends one decision event; returns its id. */
export async function recordEvent(db: Db, e: NewEvent): Promise<string> {
  const eventId = newId();
  await db.query(
    `INSERT INTO mpi_events (event_id, kind, record_a, record_b, rule_version, score, actor, reason, alert_id, envelope_id, detail)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [
      eventId,
      e.kind,
      e.recordA ?? null,
      e.recordB ?? null,
      e.ruleVersion ?? null,
      e.score ?? null,
      e.actor,
      e.reason ?? "",
      e.alertId ?? null,
      e.envelopeId ?? null,
      JSON.stringify(e.detail ?? {}),
    ],
  );
  return eventId;
}

export type LinkOrigin = "auto" | "review" | "a40";

/**
 * Links two records (no-op when an active link exists) and merges their enterprise patients:
 * the older enterprise id (ULIDs sort by time) survives. Returns whether a link was made.
 */
export async function linkRecords(
  db: Db,
  link: {
    a: number;
    b: number;
    score: number;
    origin: LinkOrigin;
    ruleVersion: string;
    reason: Record<string, unknown>;
    eventId: string;
  },
): Promise<boolean> {
  const [a, b] = ordered(link.a, link.b);
  const inserted = await db.query(
    `INSERT INTO mpi_links (record_a, record_b, score, origin, rule_version, reason, event_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (record_a, record_b) WHERE active DO NOTHING`,
    [a, b, link.score, link.origin, link.ruleVersion, JSON.stringify(link.reason), link.eventId],
  );
  if (inserted.rowCount === 0) return false;
  const { rows } = await db.query<{ id: string; enterprise_id: string }>(
    "SELECT id, enterprise_id FROM mpi_records WHERE id = ANY($1::bigint[])",
    [[a, b]],
  );
  const ids = rows.map((r) => r.enterprise_id).sort();
  const keep = ids[0]!;
  const drop = ids[1]!;
  if (keep !== drop)
    await db.query("UPDATE mpi_records SET enterprise_id = $1 WHERE enterprise_id = $2", [keep, drop]);
  return true;
}

/** Active links touching either record of the pair, directly between them. */
export async function activeLinkBetween(
  db: Db,
  x: number,
  y: number,
): Promise<{ id: number; origin: LinkOrigin } | undefined> {
  const [a, b] = ordered(x, y);
  const { rows } = await db.query<{ id: string; origin: LinkOrigin }>(
    "SELECT id, origin FROM mpi_links WHERE record_a = $1 AND record_b = $2 AND active",
    [a, b],
  );
  return rows[0] === undefined ? undefined : { id: Number(rows[0].id), origin: rows[0].origin };
}

/**
 * Removes the record `id` from its enterprise patient: deactivates every active link touching it
 * (by `eventId`), then gives each resulting component its own enterprise id. Returns the links undone.
 */
export async function detachRecord(db: Db, id: number, eventId: string): Promise<number> {
  const { rows } = await db.query<{ record_a: string; record_b: string }>(
    `UPDATE mpi_links SET active = false, undone_by = $2
     WHERE active AND (record_a = $1 OR record_b = $1) RETURNING record_a, record_b`,
    [id, eventId],
  );
  const touched = new Set<number>([id]);
  for (const r of rows) {
    touched.add(Number(r.record_a));
    touched.add(Number(r.record_b));
  }
  await resplit(db, [...touched]);
  return rows.length;
}

/** Deactivates the active link between two records and splits the enterprise patient if needed. */
export async function unlinkPair(db: Db, x: number, y: number, eventId: string): Promise<boolean> {
  const [a, b] = ordered(x, y);
  const result = await db.query(
    "UPDATE mpi_links SET active = false, undone_by = $3 WHERE record_a = $1 AND record_b = $2 AND active",
    [a, b, eventId],
  );
  if (result.rowCount === 0) return false;
  await resplit(db, [a, b]);
  return true;
}

/** Recomputes components reachable from `seeds`; every component but the first gets a new id. */
async function resplit(db: Db, seeds: readonly number[]): Promise<void> {
  const seen = new Set<number>();
  let first = true;
  for (const seed of seeds) {
    if (seen.has(seed)) continue;
    const component = await reachable(db, seed);
    for (const c of component) seen.add(c);
    if (first) {
      first = false;
      continue;
    }
    await db.query("UPDATE mpi_records SET enterprise_id = $1 WHERE id = ANY($2::bigint[])", [
      newId(),
      [...component],
    ]);
  }
}

async function reachable(db: Db, seed: number): Promise<Set<number>> {
  const { rows } = await db.query<{ id: string }>(
    `WITH RECURSIVE c(id) AS (
       SELECT $1::bigint
       UNION
       SELECT CASE WHEN l.record_a = c.id THEN l.record_b ELSE l.record_a END
       FROM mpi_links l JOIN c ON l.active AND (l.record_a = c.id OR l.record_b = c.id)
     ) SELECT id FROM c`,
    [seed],
  );
  return new Set(rows.map((r) => Number(r.id)));
}

export async function rememberNotDuplicate(db: Db, x: number, y: number, eventId: string): Promise<void> {
  const [a, b] = ordered(x, y);
  await db.query(
    "INSERT INTO mpi_not_duplicate (record_a, record_b, event_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    [a, b, eventId],
  );
}
