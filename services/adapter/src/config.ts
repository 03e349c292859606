import { z } from "zod";

const int = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const bool = (fallback: boolean) =>
  z
    .enum(["true", "false", "1", "0"])
    .default(fallback ? "true" : "false")
    .transform((v) => v === "true" || v === "1");

/** The adapter's configuration, from the environment (README has the table). */
export const adapterConfigSchema = z.object({
  HIX_ADAPTER_PROFILE: z.string().min(1, "the path of the facility profile (JSON) is required"),
  HIX_NATS_URL: z.string().min(1).default("nats://127.0.0.1:4222"),
  HIX_TOPOLOGY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]*$/)
    .default(""),
  HIX_ADAPTER_NAME: z.string().min(1).optional(),
  HIX_ADAPTER_DATABASE_URL: z.string().min(1).optional(),
  HIX_ADAPTER_CONCURRENCY: int(8),
  HIX_ADAPTER_PUBLISH_TIMEOUT_MS: int(5000),
  HIX_ADAPTER_DEDUPE_TTL_MS: int(7 * 24 * 3600 * 1000),
  HIX_ADAPTER_ENSURE_STREAMS: bool(false),
  HIX_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  HIX_STOP_GRACE_MS: int(15_000),
});

export type AdapterConfig = z.output<typeof adapterConfigSchema>;
