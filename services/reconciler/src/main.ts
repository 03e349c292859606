// Reconciler wiring: config → logger → connect (NATS, PostgreSQL) → start(deps) → run until signalled.
import { connectBus, createTopology } from "@hix/bus";
import { createPool } from "@hix/db";
import { createLogger, loadConfig, runService } from "@hix/runtime";
import { start } from "./app.js";
import { reconcilerConfigSchema } from "./config.js";

const config = loadConfig(reconcilerConfigSchema);
const logger = createLogger({ service: "reconciler", level: config.HIX_LOG_LEVEL });

await runService({
  logger,
  graceMs: config.HIX_STOP_GRACE_MS,
  start: async () => {
    const nc = await connectBus({ servers: config.HIX_NATS_URL, name: config.HIX_RECONCILER_NAME, logger });
    const pool = createPool(config.HIX_DATABASE_URL, {
      max: config.HIX_RECONCILER_DB_POOL_MAX,
      applicationName: config.HIX_RECONCILER_NAME,
      onError: (err) => logger.warn({ err }, "idle PostgreSQL connection failed"),
    });
    const reconciler = await start({
      nc,
      pool,
      topology: createTopology(config.HIX_TOPOLOGY_PREFIX),
      logger,
      durable: config.HIX_RECONCILER_DURABLE,
      concurrency: config.HIX_RECONCILER_CONCURRENCY,
      ruleVersion: config.HIX_RECONCILER_RULE_VERSION,
      alertFlushMs: config.HIX_RECONCILER_ALERT_FLUSH_MS,
    });
    return {
      async stop() {
        await reconciler.stop();
        await nc.drain();
        await pool.end();
      },
    };
  },
});
