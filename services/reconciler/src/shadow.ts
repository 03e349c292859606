/**
 * Shadow runs: what would another rule version decide over the index as it stands, compared with
 * what the index holds now? Reads only. Every current source record is matched again against its
 * blocking-key candidates under the shadow rule; each candidate pair's shadow decision is set
 * against its current state (linked by the machine, queued as an alert, or nothing). Pairs a
 * person decided (review links, A40 merges, not-duplicate, unlink) are reported apart: a rule
 * change never overrides a human decision. Run it before switching HIX_RECONCILER_RULE_VERSION.
 */
import type pg from "pg";
import { normalizeRecord, type Decision } from "@hix/linkage";
import { blockingKeys, candidates, pairKey, type StoredRecord } from "./mpi-store.js";
import { explain, ruleFor } from "./rules.js";

export type CurrentState = "linked" | "queued" | "none" | "human";

export interface ShadowChange {
  readonly a: { facilityId: string; localId: string };
  readonly b: { facilityId: string; localId: string };
  readonly current: CurrentState;
  readonly shadow: Decision;
  readonly score: number;
}

export interface ShadowReport {
  readonly ruleVersion: string;
  readonly records: number;
  readonly pairsCompared: number;
  /** `<current>→<shadow>` → pairs. */
  readonly transitions: Readonly<Record<string, number>>;
  /** Pairs whose decision would change: newly linked, no longer linked, newly queued … (first `limit`). */
  readonly changes: readonly ShadowChange[];
  readonly changed: number;
}

const AGREES: Record<Exclude<CurrentState, "human">, Decision> = {
  linked: "match",
  queued: "review",
  none: "no-link",
};

export async function shadowRun(
  pool: pg.Pool,
  ruleVersion: string,
  options: { limit?: number; batch?: number } = {},
): Promise<ShadowReport> {
  const rule = ruleFor(ruleVersion);
  const limit = options.limit ?? 100;
  const batch = options.batch ?? 500;
  const state = new Map<string, CurrentState>();
  const links = await pool.query<{ record_a: string; record_b: string; origin: string }>(
    "SELECT record_a, record_b, origin FROM mpi_links WHERE active",
  );
  for (const l of links.rows)
    state.set(pairKey(Number(l.record_a), Number(l.record_b)), l.origin === "auto" ? "linked" : "human");
  const queued = await pool.query<{ record_a: string; record_b: string }>(
    "SELECT record_a, record_b FROM mpi_alerts WHERE kind <> 'conflict' AND status = 'open'",
  );
  for (const q of queued.rows) {
    const k = pairKey(Number(q.record_a), Number(q.record_b));
    if (!state.has(k)) state.set(k, "queued");
  }
  const human = await pool.query<{ record_a: string; record_b: string }>(
    "SELECT record_a, record_b FROM mpi_not_duplicate",
  );
  for (const h of human.rows) state.set(pairKey(Number(h.record_a), Number(h.record_b)), "human");

  const transitions: Record<string, number> = {};
  const changes: ShadowChange[] = [];
  let changed = 0;
  let records = 0;
  let pairsCompared = 0;
  const seen = new Set<string>();
  const note = (a: StoredRecord, b: StoredRecord, shadow: Decision, score: number): void => {
    const key = pairKey(a.id, b.id);
    const current = state.get(key) ?? "none";
    seen.add(key);
    transitions[`${current}→${shadow}`] = (transitions[`${current}→${shadow}`] ?? 0) + 1;
    if (current !== "human" && AGREES[current] !== shadow) {
      changed++;
      if (changes.length < limit)
        changes.push({
          a: { facilityId: a.facilityId, localId: a.localId },
          b: { facilityId: b.facilityId, localId: b.localId },
          current,
          shadow,
          score,
        });
    }
  };
  for (let after = 0; ;) {
    const { rows } = await pool.query<{
      id: string;
      facility_id: string;
      local_id: string;
      record: StoredRecord["record"];
      version: number;
      enterprise_id: string;
      retired: boolean;
    }>(
      "SELECT id, facility_id, local_id, record, version, enterprise_id, retired FROM mpi_records WHERE id > $1 AND NOT retired ORDER BY id LIMIT $2",
      [after, batch],
    );
    if (rows.length === 0) break;
    for (const row of rows) {
      const self: StoredRecord = {
        id: Number(row.id),
        facilityId: row.facility_id,
        localId: row.local_id,
        record: row.record,
        normalized: undefined,
        version: row.version,
        enterpriseId: row.enterprise_id,
        retired: row.retired,
      };
      after = self.id;
      records++;
      const n = normalizeRecord(self.record);
      for (const c of await candidates(pool, blockingKeys(n), self.id)) {
        if (c.id < self.id) continue; // each pair once, from its lower id
        pairsCompared++;
        const e = explain(n, c.normalized ?? normalizeRecord(c.record), rule);
        note(self, c, e.decision, e.score);
      }
    }
  }
  // Pairs linked or queued now that the shadow rule's blocking no longer even compares.
  for (const [key, current] of state) {
    if (seen.has(key) || current === "human") continue;
    transitions[`${current}→no-link`] = (transitions[`${current}→no-link`] ?? 0) + 1;
    if (current !== "none") changed++;
  }
  return { ruleVersion, records, pairsCompared, transitions, changes, changed };
}
