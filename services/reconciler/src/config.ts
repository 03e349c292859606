import { z } from "zod";
import { DEFAULT_RULE_VERSION, RULES } from "./rules.js";

const int = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** The reconciler's configuration, from the environment (README has the table). */
export const reconcilerConfigSchema = z.object({
  HIX_NATS_URL: z.string().min(1).default("nats://127.0.0.1:4222"),
  HIX_DATABASE_URL: z.string().min(1, "the PostgreSQL URL of the master patient index is required"),
  HIX_TOPOLOGY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]*$/)
    .default(""),
  HIX_RECONCILER_NAME: z.string().min(1).default("reconciler"),
  HIX_RECONCILER_DURABLE: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default("reconciler"),
  HIX_RECONCILER_CONCURRENCY: int(8),
  HIX_RECONCILER_RULE_VERSION: z
    .string()
    .refine((v) => v in RULES, { message: `must be one of: ${Object.keys(RULES).join(", ")}` })
    .default(DEFAULT_RULE_VERSION),
  HIX_RECONCILER_ALERT_FLUSH_MS: int(10_000),
  HIX_RECONCILER_DB_POOL_MAX: int(10),
  HIX_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  HIX_STOP_GRACE_MS: int(15_000),
});

export type ReconcilerConfig = z.output<typeof reconcilerConfigSchema>;
