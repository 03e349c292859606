// Clustering without chaining: records are joined along `match` edges, strongest first, but two
// clusters are only merged when no pair across them is a strong non-match or trips a guard.
// A→B and B→C both matching does not make A and C the same person if A and C contradict each
// other; such a refused merge is reported for review instead.

export interface MatchEdge {
  readonly i: number;
  readonly j: number;
  readonly score: number;
}

export interface RefusedMerge {
  /** The match edge whose merge was refused. */
  readonly i: number;
  readonly j: number;
  /** The cross pair that blocked it, and why. */
  readonly conflictI: number;
  readonly conflictJ: number;
  readonly reason: string;
}

export interface Clustering {
  /** Clusters with two or more records (record indices, ascending). */
  readonly clusters: number[][];
  /** For every record, the index of its cluster in `clusters`, or −1 for a singleton. */
  readonly clusterOf: Int32Array;
  readonly refused: RefusedMerge[];
}

export interface ClusterOptions {
  /** Largest |A|·|B| cross check allowed; bigger merges are refused (default 10 000). */
  readonly maxCrossPairs?: number;
}

/**
 * Build clusters from match edges. `conflict(i, j)` returns a reason when records i and j must
 * not end up in one cluster (strong non-match or guard), else undefined.
 */
export function clusterMatches(
  recordCount: number,
  edges: readonly MatchEdge[],
  conflict: (i: number, j: number) => string | undefined,
  options: ClusterOptions = {},
): Clustering {
  const maxCross = options.maxCrossPairs ?? 10_000;
  const parent = new Int32Array(recordCount);
  for (let i = 0; i < recordCount; i++) parent[i] = i;
  const members = new Map<number, number[]>();
  const find = (x: number): number => {
    let r = x;
    while (parent[r] !== r) r = parent[r]!;
    while (parent[x] !== r) {
      const next = parent[x]!;
      parent[x] = r;
      x = next;
    }
    return r;
  };
  const membersOf = (root: number): number[] => members.get(root) ?? [root];
  const refused: RefusedMerge[] = [];

  const sorted = [...edges].sort((x, y) => y.score - x.score || x.i - y.i || x.j - y.j);
  for (const edge of sorted) {
    const ri = find(edge.i);
    const rj = find(edge.j);
    if (ri === rj) continue;
    const left = membersOf(ri);
    const right = membersOf(rj);
    let blocked: RefusedMerge | undefined;
    if (left.length * right.length > maxCross) {
      blocked = {
        i: edge.i,
        j: edge.j,
        conflictI: edge.i,
        conflictJ: edge.j,
        reason: "merged cluster would be too large to check",
      };
    } else {
      outer: for (const x of left) {
        for (const y of right) {
          if (x === edge.i && y === edge.j) continue;
          const reason = conflict(x, y);
          if (reason !== undefined) {
            blocked = { i: edge.i, j: edge.j, conflictI: x, conflictJ: y, reason };
            break outer;
          }
        }
      }
    }
    if (blocked !== undefined) {
      refused.push(blocked);
      continue;
    }
    const [big, small] = left.length >= right.length ? [ri, rj] : [rj, ri];
    parent[small] = big;
    members.set(big, [...membersOf(big), ...membersOf(small)]);
    members.delete(small);
  }

  const clusters: number[][] = [];
  const clusterOf = new Int32Array(recordCount).fill(-1);
  for (const list of members.values()) {
    const sortedList = [...list].sort((x, y) => x - y);
    for (const r of sortedList) clusterOf[r] = clusters.length;
    clusters.push(sortedList);
  }
  return { clusters, clusterOf, refused };
}
