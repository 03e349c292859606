// Figures shared by the benchmarks: rounding and latency percentiles.

export const round2 = (n: number): number => Math.round(n * 100) / 100;

/** p50/p90/p99/max of latencies in ms (sorts the array in place). */
export function latencySummary(latencies: number[]): { p50: number; p90: number; p99: number; max: number } {
  latencies.sort((a, b) => a - b);
  const pct = (p: number): number =>
    round2(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN);
  return { p50: pct(0.5), p90: pct(0.9), p99: pct(0.99), max: pct(1) };
}
