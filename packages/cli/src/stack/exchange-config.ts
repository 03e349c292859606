import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { UsageError } from "../command.js";

const facilitySchema = z.object({
  /** hix facility id (lower case, digits, - and _). */
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, "lower-case letters, digits, - and _"),
  name: z.string().min(1),
  /** The adapter's facility profile (JSON), relative to this file. */
  profile: z.string().min(1),
  /** Formats for the directory entry: hl7v2, fhir_r4, ccda, csv. */
  formats: z.array(z.string()).default([]),
  /** Disclosure rule per purpose of use, e.g. { "treatment": "auto", "research": "refuse" }. */
  policy: z.record(z.string(), z.enum(["auto", "review", "refuse"])).default({}),
  defaultAction: z.enum(["auto", "review", "refuse"]).default("review"),
});

export const exchangeConfigSchema = z.object({
  /** NATS to use; started locally on this loopback URL when nothing answers there. */
  natsUrl: z.string().default("nats://127.0.0.1:4222"),
  /** PostgreSQL to use; when absent an embedded PGlite is started. */
  databaseUrl: z.string().optional(),
  /** Port of the embedded PostgreSQL. */
  embeddedPostgresPort: z.number().int().positive().default(54329),
  /** Topology prefix, to run beside another exchange on the same NATS. */
  topologyPrefix: z
    .string()
    .regex(/^[A-Za-z0-9_-]*$/)
    .default(""),
  /** Where logs, NATS and embedded PostgreSQL data go, relative to this file. */
  dataDir: z.string().default(".hix"),
  /** Secret key for patient hashes in the audit ledger (at least 16 characters). */
  auditPatientKey: z.string().min(16),
  facilities: z.array(facilitySchema).min(1),
});

export type ExchangeConfig = z.output<typeof exchangeConfigSchema>;
export type FacilityConfig = ExchangeConfig["facilities"][number];

/** Reads an exchange file; paths inside it become absolute (relative to the file). */
export function loadExchangeConfig(path: string): ExchangeConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new UsageError(
      `cannot read exchange file ${path}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const parsed = exchangeConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new UsageError(`invalid exchange file ${path}: ${problems.join("; ")}`);
  }
  const base = dirname(resolve(path));
  return {
    ...parsed.data,
    dataDir: resolve(base, parsed.data.dataDir),
    facilities: parsed.data.facilities.map((f) => ({ ...f, profile: resolve(base, f.profile) })),
  };
}
