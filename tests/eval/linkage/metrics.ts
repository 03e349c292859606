// Pairwise accuracy of a linkage run against truth labels.
import type { LinkResult } from "@hix/linkage";
import type { LabelledRecord } from "./datasets.js";

export interface PairCounts {
  readonly predicted: number;
  readonly truePositives: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
}

const ratio = (x: number, y: number): number => (y === 0 ? 1 : Math.round((x / y) * 10000) / 10000);

function counts(predicted: number, tp: number, truePairs: number): PairCounts {
  const precision = ratio(tp, predicted);
  const recall = ratio(tp, truePairs);
  const f1 =
    precision + recall === 0
      ? 0
      : Math.round(((2 * precision * recall) / (precision + recall)) * 10000) / 10000;
  return { predicted, truePositives: tp, precision, recall, f1 };
}

/** Every true pair (same entity; across sources only when `crossSourceOnly`). */
export function truePairs(data: readonly LabelledRecord[], crossSourceOnly: boolean): [string, string][] {
  const byEntity = new Map<string, LabelledRecord[]>();
  for (const r of data) {
    const list = byEntity.get(r.entity);
    if (list === undefined) byEntity.set(r.entity, [r]);
    else list.push(r);
  }
  const pairs: [string, string][] = [];
  for (const list of byEntity.values()) {
    for (let x = 0; x < list.length; x++) {
      for (let y = x + 1; y < list.length; y++) {
        const a = list[x]!.record;
        const b = list[y]!.record;
        if (crossSourceOnly && a.facilityId === b.facilityId) continue;
        pairs.push([a.id, b.id]);
      }
    }
  }
  return pairs;
}

export interface Accuracy {
  readonly truePairs: number;
  readonly pairCompleteness: number;
  readonly match: PairCounts;
  readonly matchOrReview: PairCounts;
  /** Pairwise accuracy of the clusters (every pair inside a cluster counts as linked). */
  readonly clusters: PairCounts;
}

export function accuracy(
  data: readonly LabelledRecord[],
  result: LinkResult,
  crossSourceOnly: boolean,
): Accuracy {
  const entityOf = new Map(data.map((r) => [r.record.id, r.entity]));
  const truth = truePairs(data, crossSourceOnly);
  const found = truth.filter(([a, b]) => result.isCandidate(a, b)).length;
  let match = 0;
  let matchTp = 0;
  let linked = 0;
  let linkedTp = 0;
  for (const p of result.pairs) {
    const same = entityOf.get(p.a) === entityOf.get(p.b);
    if (p.decision === "match") {
      match++;
      if (same) matchTp++;
    }
    if (p.decision !== "no-link") {
      linked++;
      if (same) linkedTp++;
    }
  }
  let clusterPairs = 0;
  let clusterTp = 0;
  const sourceOf = new Map(data.map((r) => [r.record.id, r.record.facilityId]));
  for (const c of result.clusters) {
    for (let x = 0; x < c.ids.length; x++) {
      for (let y = x + 1; y < c.ids.length; y++) {
        const a = c.ids[x]!;
        const b = c.ids[y]!;
        if (crossSourceOnly && sourceOf.get(a) === sourceOf.get(b)) continue;
        clusterPairs++;
        if (entityOf.get(a) === entityOf.get(b)) clusterTp++;
      }
    }
  }
  return {
    truePairs: truth.length,
    pairCompleteness: ratio(found, truth.length),
    match: counts(match, matchTp, truth.length),
    matchOrReview: counts(linked, linkedTp, truth.length),
    clusters: counts(clusterPairs, clusterTp, truth.length),
  };
}
