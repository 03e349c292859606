// Router wiring: config → logger → connect (NATS, PostgreSQL) → start(deps) → run until signalled.
import { connectBus, createTopology } from "@hix/bus";
import { createPool } from "@hix/db";
import { createLogger, loadConfig, runService } from "@hix/runtime";
import { start } from "./app.js";
import { routerConfigSchema } from "./config.js";

const config = loadConfig(routerConfigSchema);
const logger = createLogger({ service: "router", level: config.HIX_LOG_LEVEL });

await runService({
  logger,
  graceMs: config.HIX_STOP_GRACE_MS,
  start: async () => {
    const nc = await connectBus({ servers: config.HIX_NATS_URL, name: config.HIX_ROUTER_NAME, logger });
    const pool = createPool(config.HIX_DATABASE_URL, {
      max: config.HIX_ROUTER_DB_POOL_MAX,
      applicationName: config.HIX_ROUTER_NAME,
      onError: (err) => logger.warn({ err }, "idle PostgreSQL connection failed"),
    });
    const router = await start({
      nc,
      pool,
      databaseUrl: config.HIX_DATABASE_URL,
      topology: createTopology(config.HIX_TOPOLOGY_PREFIX),
      logger,
      patientHashKey: config.HIX_AUDIT_PATIENT_KEY,
      durable: config.HIX_ROUTER_DURABLE,
      concurrency: config.HIX_ROUTER_CONCURRENCY,
      maxMessageBytes: config.HIX_ROUTER_MAX_MESSAGE_BYTES,
      locateTimeoutMs: config.HIX_ROUTER_LOCATE_TIMEOUT_MS,
      sweepIntervalMs: config.HIX_ROUTER_SWEEP_INTERVAL_MS,
      directoryRefreshMs: config.HIX_ROUTER_DIRECTORY_REFRESH_MS,
      defaultDeadlineMs: config.HIX_ROUTER_DEFAULT_DEADLINE_MS,
    });
    return {
      async stop() {
        await router.stop();
        await nc.drain();
        await pool.end();
      },
    };
  },
});
