// The benchmarks `pnpm bench` knows. Each module exports `run(args)` returning its figures;
// a benchmark is imported lazily so one benchmark's dependencies never slow another.
export interface Benchmark {
  readonly description: string;
  run(args: readonly string[]): Promise<Record<string, unknown>>;
}

export const benchmarks: Record<string, Benchmark> = {
  bus: {
    description: "bus publish → consume → ack vs bare nats.js (same run)",
    run: async (args) => (await import("./bus.bench.js")).run(args),
  },
};
