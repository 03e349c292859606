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
import type { AlertKind } from "./alerts.js";
import { writeDecisions, type AlertRow, type EventRow, type LinkRow } from "./decisions.js";
import { linkRecords, recordEvent } from "./links.js";
import {
  blockingKeys,
  findRecord,
  insertNewRecord,
  lockKeys,
  neighborhood,
  pairKey,
  replaceKeys,
  setRetired,
  updateRecord,
  type Neighborhood,
  type Member,
} from "./mpi-store.js";
import { explain, explanationWithoutValues, probability, quickScore, summarize, type Rule } from "./rules.js";

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

  const events: EventRow[] = [];
  const alerts: AlertRow[] = [];
  const alert = (kind: AlertKind, a: number, b: number, score: number, reason: string, autoLinked: boolean) =>
    alerts.push({
      alertId: newId(),
      kind,
      recordA: a,
      recordB: b,
      score,
      reason,
      autoLinked,
      ruleVersion: rule.version,
    });
  const envelope = input.envelopeId === undefined ? {} : { envelopeId: input.envelopeId };

  // A new record (the common case): record, keys and its event in one statement.
  const recordEventId = newId();
  let self = await insertNewRecord(db, {
    facilityId: input.facilityId,
    localId: input.localId,
    record: input.record,
    normalized,
    enterpriseId: newId(),
    keys,
    event: { eventId: recordEventId, actor: AUTO_ACTOR, reason: input.intake, envelopeId: input.envelopeId },
  });
  let changed = true;
  if (self === undefined) {
    const existing = (await findRecord(db, input.facilityId, input.localId))!;
    if (input.intake === "seen" || sameRecord(existing.record, input.record)) {
      // Traffic names a patient the index already knows (announcements are authoritative), or the
      // same demographics again: nothing to learn, but a MERGED announcement still merges below.
      self = existing;
      changed = false;
    } else {
      const before = normalizeRecord(existing.record);
      const changes = identityChanges(before, normalized, rule);
      self = await updateRecord(db, existing.id, input.record, normalized);
      if (changes.length > 0)
        alert(
          "conflict",
          self.id,
          self.id,
          0,
          `record changed ${changes.join(" and ")} since version ${existing.version}: may be a different person`,
          false,
        );
      await replaceKeys(db, self.id, keys);
      await recordEvent(db, {
        kind: "record",
        recordA: self.id,
        actor: AUTO_ACTOR,
        reason: input.intake,
        ...envelope,
        detail: { version: self.version, record: input.record },
      });
    }
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
      ...envelope,
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

  // Candidates, both sides' enterprise patients and the pairs reviewers ruled out: one read.
  // Decisions are made on it in memory (the locks above keep it current for this record), and
  // written at the end in one statement.
  const hood = await neighborhood(db, self.id, changed ? keys : []);
  const selfId = self.id;
  const byId = new Map(hood.members.map((m) => [m.id, m]));
  const enterpriseOfId = new Map(hood.members.map((m) => [m.id, m.enterpriseId]));
  const members = new Map<string, Member[]>();
  for (const m of hood.members) members.set(m.enterpriseId, [...(members.get(m.enterpriseId) ?? []), m]);
  // This record as the input has it; the others as stored (migrations/0003).
  const norm = (r: Member): NormalizedRecord => (r.id === selfId ? normalized : r.normalized);

  const scored = [...hood.candidateIds]
    .filter((id) => !hood.notDuplicate.has(pairKey(selfId, id)))
    .map((id) => byId.get(id)!)
    // Most candidates share a block but are other people: score them without explaining.
    .filter((c) => quickScore(normalized, norm(c), rule) >= rule.thresholds.review - 1e-9)
    .map((c) => ({ c, e: explain(normalized, norm(c), rule) }))
    .filter((x) => x.e.decision !== "no-link")
    .sort((x, y) => y.e.score - x.e.score || x.c.id - y.c.id);

  const links: LinkRow[] = [];
  const dropped: string[] = [];
  for (const { c, e } of scored) {
    const kind: AlertKind = c.facilityId === input.facilityId ? "duplicate" : "cross-facility-link";
    const mine = enterpriseOfId.get(selfId)!;
    const theirs = enterpriseOfId.get(c.id)!;
    if (mine === theirs) continue; // already the same enterprise patient
    if (e.decision === "match") {
      const refusal = clusterConflict(
        rule,
        members.get(mine)!,
        members.get(theirs)!,
        selfId,
        c.id,
        hood,
        norm,
      );
      if (refusal === undefined) {
        const eventId = newId();
        events.push({
          eventId,
          kind: "auto-link",
          recordA: selfId,
          recordB: c.id,
          ruleVersion: rule.version,
          score: e.score,
          actor: AUTO_ACTOR,
          reason: summarize(e),
          envelopeId: input.envelopeId,
          detail: explanationWithoutValues(e),
        });
        links.push({
          a: selfId,
          b: c.id,
          score: probability(e.score),
          origin: "auto",
          ruleVersion: rule.version,
          reason: explanationWithoutValues(e),
          eventId,
        });
        // As linkRecords does: the older enterprise id (ULIDs sort by time) survives.
        const [keep, drop] = mine < theirs ? [mine, theirs] : [theirs, mine];
        const joined = [...members.get(keep)!, ...members.get(drop)!];
        members.set(keep, joined);
        members.delete(drop);
        for (const m of joined) enterpriseOfId.set(m.id, keep);
        dropped.push(drop);
        alert(kind, selfId, c.id, e.score, `linked automatically: ${summarize(e)}`, true);
        continue;
      }
      alert(kind, selfId, c.id, e.score, `match not linked (${refusal}): ${summarize(e)}`, false);
      continue;
    }
    alert(kind, selfId, c.id, e.score, `needs review: ${summarize(e)}`, false);
  }

  // Linked records that disagree on birth date or sex (after an update, or a merge by a facility).
  const enterpriseId = enterpriseOfId.get(selfId)!;
  for (const m of members.get(enterpriseId)!) {
    if (m.id === selfId) continue;
    const e = explain(normalized, norm(m), rule);
    const fields = disagreements(e);
    if (fields.length > 0)
      alert("conflict", selfId, m.id, e.score, `linked records disagree on ${fields.join(" and ")}`, false);
  }

  const written = await writeDecisions(db, {
    events,
    links,
    merge: dropped.length === 0 ? undefined : { keep: enterpriseId, drop: dropped },
    alerts,
  });
  return {
    recordId: selfId,
    enterpriseId,
    changed,
    candidates: hood.candidateIds.size,
    linked: linked + written.links,
    alerts: written.alerts,
  };
}

/**
 * Why joining the enterprise patients `left` (holding `a`) and `right` (holding `b`) must not
 * happen automatically, or undefined: a pair across them that a reviewer ruled out, that a
 * guard stops (twins, Jr/Sr, identifier conflict), or that is a strong non-match — clustering
 * never chains two different people together.
 */
function clusterConflict(
  rule: Rule,
  left: readonly Member[],
  right: readonly Member[],
  a: number,
  b: number,
  hood: Neighborhood,
  norm: (r: Member) => NormalizedRecord,
): string | undefined {
  for (const x of left)
    for (const y of right)
      if (hood.notDuplicate.has(pairKey(x.id, y.id)))
        return "a reviewer ruled out a pair across the two patients";
  for (const x of left)
    for (const y of right) {
      if (x.id === a && y.id === b) continue;
      const e = explain(norm(x), norm(y), rule);
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
