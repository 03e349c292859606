// `pnpm eval linkage [--only name] [--batch N]`: accuracy of @hix/linkage on FEBRL 1–4,
// Splink fake_1000 and a seeded synthetic set with twins and Jr/Sr look-alikes, plus the
// throughput of one large synthetic batch. Figures go to docs/benchmarks.md.
import { linkRecords, type LinkOptions } from "@hix/linkage";
import { loadFake1000, loadFebrl, type LabelledRecord } from "./linkage/datasets.js";
import { accuracy } from "./linkage/metrics.js";
import { generateSynthetic, lookAlikeAutoLinks, type LookAlikeKind } from "./linkage/synthetic.js";

interface EvalSet {
  readonly name: string;
  readonly load: () => { data: LabelledRecord[]; lookAlikes?: ReadonlyMap<string, LookAlikeKind> };
  readonly crossSourceOnly?: boolean;
}

const SETS: readonly EvalSet[] = [
  { name: "febrl1", load: () => ({ data: loadFebrl("dataset1.csv") }) },
  { name: "febrl2", load: () => ({ data: loadFebrl("dataset2.csv") }) },
  { name: "febrl3", load: () => ({ data: loadFebrl("dataset3.csv") }) },
  {
    name: "febrl4",
    load: () => ({ data: [...loadFebrl("dataset4a.csv", "A"), ...loadFebrl("dataset4b.csv", "B")] }),
    crossSourceOnly: true,
  },
  { name: "splink-fake1000", load: () => ({ data: loadFake1000() }) },
  { name: "synthetic", load: () => generateSynthetic({ seed: 20240601, entities: 4000 }) },
];

function runSet(set: EvalSet): Record<string, unknown> {
  const { data, lookAlikes } = set.load();
  const options: LinkOptions = { includeNonLinks: true, crossSourceOnly: set.crossSourceOnly === true };
  const start = performance.now();
  const result = linkRecords(
    data.map((d) => d.record),
    options,
  );
  const seconds = (performance.now() - start) / 1000;
  return {
    set: set.name,
    records: data.length,
    candidatePairs: result.stats.candidatePairs,
    ...accuracy(data, result, set.crossSourceOnly === true),
    ...(lookAlikes === undefined ? {} : { lookAlikeAutoLinks: lookAlikeAutoLinks(result, lookAlikes) }),
    decisions: result.stats.decisions,
    cappedByGuard: result.stats.cappedByGuard,
    refusedMerges: result.stats.refusedMerges,
    em: result.stats.em,
    passes: result.stats.passes.map((p) => ({
      name: p.name,
      pairs: p.pairs,
      newPairs: p.newPairs,
      oversizedBlocks: p.oversizedBlocks,
    })),
    seconds: Math.round(seconds * 1000) / 1000,
  };
}

function runBatch(entities: number): Record<string, unknown> {
  const { data, lookAlikes } = generateSynthetic({ seed: 7, entities });
  const records = data.map((d) => d.record);
  const start = performance.now();
  const result = linkRecords(records);
  const seconds = (performance.now() - start) / 1000;
  const accuracyFigures = accuracy(data, result, false);
  return {
    set: "synthetic-batch",
    records: records.length,
    candidatePairs: result.stats.candidatePairs,
    seconds: Math.round(seconds * 100) / 100,
    recordsPerSecond: Math.round(records.length / seconds),
    pairsPerSecond: Math.round(result.stats.candidatePairs / seconds),
    milliseconds: result.stats.milliseconds,
    pairCompleteness: accuracyFigures.pairCompleteness,
    match: accuracyFigures.match,
    matchOrReview: accuracyFigures.matchOrReview,
    lookAlikeAutoLinks: lookAlikeAutoLinks(result, lookAlikes),
    oversizedBlocks: result.stats.passes.reduce((n, p) => n + p.oversizedBlocks, 0),
  };
}

export async function run(args: readonly string[]): Promise<Record<string, unknown>> {
  const only = args.includes("--only") ? args[args.indexOf("--only") + 1] : undefined;
  const batchArg = args.includes("--batch") ? Number(args[args.indexOf("--batch") + 1]) : 54_000;
  const sets = SETS.filter((s) => only === undefined || s.name === only).map(runSet);
  const batch = only === undefined || only === "synthetic-batch" ? runBatch(batchArg) : undefined;
  return Promise.resolve({ sets, ...(batch === undefined ? {} : { batch }) });
}
