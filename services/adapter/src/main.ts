// Adapter wiring: config → logger → profile (+ hooks) → connect (NATS, PostgreSQL if the
// record store needs it) → start(deps) → run until signalled.
import { loadHooks, loadProfile } from "@hix/adapter-kit";
import { connectBus, createTopology } from "@hix/bus";
import { createPool } from "@hix/db";
import { createLogger, loadConfig, runService } from "@hix/runtime";
import { start } from "./app.js";
import { adapterConfigSchema } from "./config.js";

const config = loadConfig(adapterConfigSchema);
const logger = createLogger({ service: "adapter", level: config.HIX_LOG_LEVEL });

await runService({
  logger,
  graceMs: config.HIX_STOP_GRACE_MS,
  start: async () => {
    const profile = await loadProfile(config.HIX_ADAPTER_PROFILE);
    const hooks =
      profile.profile.hooks === undefined ? undefined : await loadHooks(profile.path(profile.profile.hooks));
    const name = config.HIX_ADAPTER_NAME ?? `adapter-${profile.profile.id}`;
    const nc = await connectBus({ servers: config.HIX_NATS_URL, name, logger });
    const pool =
      config.HIX_ADAPTER_DATABASE_URL === undefined
        ? undefined
        : createPool(config.HIX_ADAPTER_DATABASE_URL, {
            max: 4,
            applicationName: name,
            onError: (err) => logger.warn({ err }, "idle PostgreSQL connection failed"),
          });
    const adapter = await start({
      nc,
      profile,
      hooks,
      topology: createTopology(config.HIX_TOPOLOGY_PREFIX),
      logger,
      pool,
      concurrency: config.HIX_ADAPTER_CONCURRENCY,
      publishTimeoutMs: config.HIX_ADAPTER_PUBLISH_TIMEOUT_MS,
      dedupeTtlMs: config.HIX_ADAPTER_DEDUPE_TTL_MS,
      ensureStreams: config.HIX_ADAPTER_ENSURE_STREAMS,
    });
    return {
      async stop() {
        await adapter.stop();
        await nc.drain();
        await pool?.end();
      },
    };
  },
});
