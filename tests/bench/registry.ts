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
  route: {
    description:
      "facility → router → destination vs bare nats.js relay without logic (same run): throughput and p50/p99 at 1,000 msg/s",
    run: async (args) => (await import("./route.bench.js")).run(args),
  },
  linkage: {
    description:
      "linkage: 100k-record batch dedupe (records/s, pairs/s); reconciler incremental match p50/p99 vs a PK lookup on an MPI in PostgreSQL",
    run: async (args) => (await import("./linkage.bench.js")).run(args),
  },
  hl7: {
    description:
      "HL7 v2 parse and parse + read ~20 fields: hix vs @medplum/core, node-hl7-client, hl7-standard",
    run: async (args) => (await import("./hl7.bench.js")).run(args),
  },
};
