import { z } from "zod";

/**
 * Messages one router handles at once. Most of a message's time in the router is spent waiting
 * (for the delivery's PubAck, then for the audit group commit), so too few in flight leave the
 * CPU idle. More in flight also means more live objects at each young-generation GC, which is
 * why the `start` script runs Node with `--max-semi-space-size=64`; the two together are worth
 * about a fifth more routed throughput than 128 (docs/adr/0004-router.md, docs/benchmarks.md).
 */
export const ROUTER_CONCURRENCY = 256;

const int = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** The router's configuration, from the environment (README has the table). */
export const routerConfigSchema = z.object({
  HIX_NATS_URL: z.string().min(1).default("nats://127.0.0.1:4222"),
  HIX_DATABASE_URL: z.string().min(1, "the PostgreSQL URL of the directory and audit ledger is required"),
  HIX_TOPOLOGY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]*$/)
    .default(""),
  HIX_ROUTER_NAME: z.string().min(1).default("router"),
  HIX_ROUTER_DURABLE: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default("router"),
  HIX_ROUTER_CONCURRENCY: int(ROUTER_CONCURRENCY),
  HIX_ROUTER_MAX_MESSAGE_BYTES: int(512 * 1024),
  HIX_ROUTER_LOCATE_TIMEOUT_MS: int(2000),
  HIX_ROUTER_SWEEP_INTERVAL_MS: int(5000),
  HIX_ROUTER_DIRECTORY_REFRESH_MS: int(30_000),
  HIX_ROUTER_DEFAULT_DEADLINE_MS: int(72 * 3600 * 1000),
  HIX_ROUTER_DB_POOL_MAX: int(10),
  HIX_AUDIT_PATIENT_KEY: z
    .string()
    .min(16, "must be at least 16 characters (a secret; keep it out of the ledger)"),
  HIX_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  HIX_STOP_GRACE_MS: int(15_000),
});

export type RouterConfig = z.output<typeof routerConfigSchema>;
