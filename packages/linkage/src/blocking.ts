// Blocking: only records that share a key in at least one pass become candidate pairs.
// Several independent passes, so that one wrong or missing field cannot hide a true pair;
// pairs found by several passes are counted once. Blocks larger than `maxBlockSize` are
// skipped (and reported): a key shared by thousands of records carries no information and
// would make the run quadratic; the other passes still see those records.
import type { NormalizedRecord } from "./types.js";

export interface BlockingPass {
  readonly name: string;
  /** The blocking key, or undefined when the record cannot take part in this pass. */
  readonly key: (r: NormalizedRecord) => string | undefined;
}

const year = (r: NormalizedRecord): string | undefined =>
  r.birth === undefined ? undefined : String(r.birth.year);
const fullDate = (r: NormalizedRecord): string | undefined =>
  r.birth?.day === undefined ? undefined : `${r.birth.year}-${r.birth.month}-${r.birth.day}`;
const join = (...parts: (string | undefined)[]): string | undefined =>
  parts.some((x) => x === undefined || x === "") ? undefined : parts.join("|");

/** The default passes. Each names the fields it relies on. */
export const DEFAULT_PASSES: readonly BlockingPass[] = [
  { name: "family-nysiis+birth-year", key: (r) => join(r.familyCode, year(r)) },
  { name: "given-initial+birth-date", key: (r) => join(r.given?.[0], fullDate(r)) },
  { name: "family-initial+birth-date", key: (r) => join(r.family?.[0], fullDate(r)) },
  { name: "postal-code+family-prefix", key: (r) => join(r.postalCode, r.family?.slice(0, 3)) },
  { name: "postal-code+given-prefix", key: (r) => join(r.postalCode, r.given?.slice(0, 3)) },
  // Order-free name codes find given/family swaps and survive a missing birth date.
  {
    name: "name-codes",
    key: (r) =>
      r.givenCode === undefined || r.familyCode === undefined
        ? undefined
        : [r.givenCode, r.familyCode].sort().join("|"),
  },
  { name: "ssn-last4+birth-year", key: (r) => join(r.ssn?.slice(-4), year(r)) },
  { name: "ssn", key: (r) => r.ssn },
  { name: "phone", key: (r) => r.phone },
  { name: "email", key: (r) => r.email },
];

export interface PassStats {
  readonly name: string;
  readonly blocks: number;
  /** Pairs this pass produced, including ones an earlier pass already found. */
  readonly pairs: number;
  /** Pairs no earlier pass had found. */
  readonly newPairs: number;
  readonly oversizedBlocks: number;
  readonly recordsInOversizedBlocks: number;
}

export interface BlockingOptions {
  readonly passes?: readonly BlockingPass[];
  /** Blocks with more records are skipped (default 200). */
  readonly maxBlockSize?: number;
  /** Only pair records from different sources (two-source linkage). */
  readonly source?: (index: number) => string | undefined;
}

export interface CandidatePairs {
  /** Lower record index of each pair. */
  readonly a: Int32Array;
  /** Higher record index of each pair. */
  readonly b: Int32Array;
  readonly count: number;
  readonly passes: readonly PassStats[];
  /** Whether records i and j (any order) are a candidate pair. */
  readonly has: (i: number, j: number) => boolean;
}

/** Generate deduplicated candidate pairs over `records` (indices into the array). */
export function blockRecords(
  records: readonly NormalizedRecord[],
  options: BlockingOptions = {},
): CandidatePairs {
  const n = records.length;
  const passes = options.passes ?? DEFAULT_PASSES;
  const maxBlockSize = options.maxBlockSize ?? 200;
  const source = options.source;
  const seen = new Set<number>();
  let a = new Int32Array(1024);
  let b = new Int32Array(1024);
  let count = 0;
  const stats: PassStats[] = [];

  for (const pass of passes) {
    const blocks = new Map<string, number[]>();
    for (let i = 0; i < n; i++) {
      const key = pass.key(records[i]!);
      if (key === undefined) continue;
      const block = blocks.get(key);
      if (block === undefined) blocks.set(key, [i]);
      else block.push(i);
    }
    let pairs = 0;
    let newPairs = 0;
    let oversized = 0;
    let oversizedRecords = 0;
    for (const block of blocks.values()) {
      if (block.length < 2) continue;
      if (block.length > maxBlockSize) {
        oversized++;
        oversizedRecords += block.length;
        continue;
      }
      for (let x = 0; x < block.length; x++) {
        const i = block[x]!;
        for (let y = x + 1; y < block.length; y++) {
          const j = block[y]!;
          if (source !== undefined && source(i) === source(j)) continue;
          pairs++;
          const key = i * n + j; // i < j: block members are in index order
          if (seen.has(key)) continue;
          seen.add(key);
          newPairs++;
          if (count === a.length) {
            const na = new Int32Array(count * 2);
            const nb = new Int32Array(count * 2);
            na.set(a);
            nb.set(b);
            a = na;
            b = nb;
          }
          a[count] = i;
          b[count] = j;
          count++;
        }
      }
    }
    stats.push({
      name: pass.name,
      blocks: blocks.size,
      pairs,
      newPairs,
      oversizedBlocks: oversized,
      recordsInOversizedBlocks: oversizedRecords,
    });
  }
  return {
    a: a.subarray(0, count),
    b: b.subarray(0, count),
    count,
    passes: stats,
    has: (i, j) => seen.has(Math.min(i, j) * n + Math.max(i, j)),
  };
}
