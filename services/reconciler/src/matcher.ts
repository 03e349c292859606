/**
 * Incremental matching: one patient as a facility now knows it → the index. Runs inside the
 * caller's transaction: upsert the source record, look for an identity change (conflict), apply
 * an A40 merge, find candidates by blocking key, score them under the rule, link `match`es whose
 * clusters do not conflict, queue alerts for the rest, and check linked records still agree.
 */
import type pg from "pg";
import {
  normalizeRecord,
  type LinkageRecord,
  type NormalizedRecord,
  type PairExplanation,
} from "@hix/linkage";
import { newId } from "@hix/proto";
import { raiseAlert, type AlertKind } from "./alerts.js";
import { linkRecords, recordEvent } from "./links.js";
import {
  blockingKeys,
  candidates,
  clusterMembers,
  enterpriseOf,
  findRecord,
  insertRecord,
  lockKeys,
  notDuplicatePairs,
  pairKey,
  replaceKeys,
  setRetired,
  updateRecord,
  type StoredRecord,
} from "./mpi-store.js";
import { explain, explanationWithoutValues, probability, summarize, type Rule } from "./rules.js";

type Db = Pick<pg.PoolClient, "query">;

/** How the reconciler learned of the patient. */
export type Intake = "registered" | "updated" | "merged" | "seen";

export interface PatientInput {
  readonly facilityId: string;
  readonly localId: string;
  readonly record: LinkageRecord;
  readonly intake: Intake;
  /** For `merged` (HL7 v2 MRG-1): local ids at the same facility merged into this one. */
  readonly retiredLocalIds?: readonly string[];
  readonly envelopeId?: string;
}

export interface MatchOutcome {
  readonly recordId: number;
  readonly enterpriseId: string;
  /** Whether the source record was created or changed. */
  readonly changed: boolean;
  readonly candidates: number;
  readonly linked: number;
  readonly alerts: number;
}

export const AUTO_ACTOR = "reconciler";

/** Identity-defining facts that changed between two versions of one record, by field name. */
export function identityChanges(before: NormalizedRecord, after: NormalizedRecord, rule: Rule): string[] {
  const changes: string[] = [];
  if (before.sex !== undefined && after.sex !== undefined && before.sex !== after.sex) changes.push("sex");
  const e = explain(before, after, rule);
  if (e.fields.find((f) => f.field === "birthDate")?.level === "disagree") changes.push("birthDate");
  return changes;
}

/** Facts linked records disagree on (birth date, sex), by field name. */
function disagreements(e: PairExplanation): string[] {
  return e.fields
    .filter((f) => (f.field === "birthDate" || f.field === "sex") && f.level === "disagree")
    .map((f) => f.field);
}

export async function matchPatient(db: Db, rule: Rule, input: PatientInput): Promise<MatchOutcome> {
  const normalized = normalizeRecord(input.record);
  const keys = blockingKeys(normalized);
  // Lock this record's identity and its keys; an update also locks its old keys (below, by row lock).
  await lockKeys(db, [`record:${input.facilityId}/${input.localId}`, ...keys]);

  let alerts = 0;
  const alert = async (
    kind: AlertKind,
    a: number,
    b: number,
    score: number,
    reason: string,
    autoLinked: boolean,
  ) => {
    const id = await raiseAlert(db, {
      kind,
      recordA: a,
      recordB: b,
      score,
      reason,
      autoLinked,
      ruleVersion: rule.version,
    });
    if (id !== undefined) alerts++;
  };

  const existing = await findRecord(db, input.facilityId, input.localId);
  let self: StoredRecord;
  let changed = true;
  if (existing === undefined) {
    self = await insertRecord(db, { ...input, enterpriseId: newId() });
  } else if (input.intake === "seen" || sameRecord(existing.record, input.record)) {
    // Traffic names a patient the index already knows (announcements are authoritative), or the
    // same demographics again: nothing to learn, but a MERGED announcement still merges below.
    self = existing;
    changed = false;
  } else {
    const before = normalizeRecord(existing.record);
    const changes = identityChanges(before, normalized, rule);
    self = await updateRecord(db, existing.id, input.record);
    if (changes.length > 0)
      await alert(
        "conflict",
        self.id,
        self.id,
        0,
        `record changed ${changes.join(" and ")} since version ${existing.version}: may be a different person`,
        false,
      );
  }
  if (changed) {
    await replaceKeys(db, self.id, keys);
    await recordEvent(db, {
      kind: "record",
      recordA: self.id,
      actor: AUTO_ACTOR,
      reason: input.intake,
      ...(input.envelopeId === undefined ? {} : { envelopeId: input.envelopeId }),
      detail: { version: self.version, record: input.record },
    });
  }
  if (self.retired && input.intake !== "seen") await setRetired(db, self.id, false);

  let linked = 0;
  // HL7 v2 ADT^A40: the facility merged these records into this one; link them as certain.
  for (const retiredLocal of input.retiredLocalIds ?? []) {
    if (retiredLocal === input.localId) continue;
    const gone = await findRecord(db, input.facilityId, retiredLocal);
    if (gone === undefined) continue;
    const eventId = await recordEvent(db, {
      kind: "a40-merge",
      recordA: self.id,
      recordB: gone.id,
      ruleVersion: rule.version,
      score: 1,
      actor: input.facilityId,
      reason: "merged by the facility (ADT^A40)",
      ...(input.envelopeId === undefined ? {} : { envelopeId: input.envelopeId }),
    });
    await setRetired(db, gone.id, true);
    if (
      await linkRecords(db, {
        a: self.id,
        b: gone.id,
        score: 1,
        origin: "a40",
        ruleVersion: rule.version,
        reason: { merge: "ADT^A40" },
        eventId,
      })
    )
      linked++;
  }

  const found = changed ? await candidates(db, keys, self.id) : [];
  const blocked = await notDuplicatePairs(
    db,
    [self.id],
    found.map((c) => c.id),
  );
  const scored = found
    .filter((c) => !blocked.has(pairKey(self.id, c.id)))
    .map((c) => ({ c, n: normalizeRecord(c.record), e: undefined as PairExplanation | undefined }))
    .map((x) => ({ ...x, e: explain(normalized, x.n, rule) }))
    .filter((x) => x.e.decision !== "no-link")
    .sort((x, y) => y.e.score - x.e.score);

  for (const { c, e } of scored) {
    const kind: AlertKind = c.facilityId === input.facilityId ? "duplicate" : "cross-facility-link";
    const current = { ...self, enterpriseId: await enterpriseOf(db, self.id) };
    const other = { ...c, enterpriseId: await enterpriseOf(db, c.id) };
    if (current.enterpriseId === other.enterpriseId) continue; // already the same enterprise patient
    if (e.decision === "match") {
      const refusal = await clusterConflict(db, rule, current, other);
      if (refusal === undefined) {
        const eventId = await recordEvent(db, {
          kind: "auto-link",
          recordA: self.id,
          recordB: c.id,
          ruleVersion: rule.version,
          score: e.score,
          actor: AUTO_ACTOR,
          reason: summarize(e),
          ...(input.envelopeId === undefined ? {} : { envelopeId: input.envelopeId }),
          detail: explanationWithoutValues(e),
        });
        await linkRecords(db, {
          a: self.id,
          b: c.id,
          score: probability(e.score),
          origin: "auto",
          ruleVersion: rule.version,
          reason: explanationWithoutValues(e),
          eventId,
        });
        linked++;
        await alert(kind, self.id, c.id, e.score, `linked automatically: ${summarize(e)}`, true);
        continue;
      }
      await alert(kind, self.id, c.id, e.score, `match not linked (${refusal}): ${summarize(e)}`, false);
      continue;
    }
    await alert(kind, self.id, c.id, e.score, `needs review: ${summarize(e)}`, false);
  }

  // Linked records that disagree on birth date or sex (after an update, or a merge by a facility).
  const enterpriseId = await enterpriseOf(db, self.id);
  for (const m of await clusterMembers(db, enterpriseId)) {
    if (m.id === self.id) continue;
    const e = explain(normalized, normalizeRecord(m.record), rule);
    const fields = disagreements(e);
    if (fields.length > 0)
      await alert(
        "conflict",
        self.id,
        m.id,
        e.score,
        `linked records disagree on ${fields.join(" and ")}`,
        false,
      );
  }
  return { recordId: self.id, enterpriseId, changed, candidates: found.length, linked, alerts };
}

/**
 * Why joining the clusters of `a` and `b` must not happen automatically, or undefined: a pair
 * across them that a reviewer ruled out, that a guard stops (twins, Jr/Sr, identifier conflict),
 * or that is a strong non-match — clustering never chains two different people together.
 */
async function clusterConflict(
  db: Db,
  rule: Rule,
  a: StoredRecord,
  b: StoredRecord,
): Promise<string | undefined> {
  const left = await clusterMembers(db, a.enterpriseId);
  const right = await clusterMembers(db, b.enterpriseId);
  const ruledOut = await notDuplicatePairs(
    db,
    left.map((m) => m.id),
    right.map((m) => m.id),
  );
  if (ruledOut.size > 0) return "a reviewer ruled out a pair across the two patients";
  const ln = left.map((m) => ({ m, n: normalizeRecord(m.record) }));
  const rn = right.map((m) => ({ m, n: normalizeRecord(m.record) }));
  for (const x of ln)
    for (const y of rn) {
      if (x.m.id === a.id && y.m.id === b.id) continue;
      const e = explain(x.n, y.n, rule);
      if (e.guards.length > 0)
        return `guard ${e.guards.map((g) => g.code).join(", ")} across the two patients`;
      if (e.score < rule.thresholds.strongNonMatch) return "a strong non-match across the two patients";
    }
  return undefined;
}

function sameRecord(a: LinkageRecord, b: LinkageRecord): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}
function sortKeys(r: LinkageRecord): [string, unknown][] {
  return Object.entries(r).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
}
