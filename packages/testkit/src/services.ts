import { connect } from "nats";
import pg from "pg";
import { TestkitError } from "./errors.js";

/**
 * Where the integration tests find real NATS JetStream and PostgreSQL, in this order
 * (docs/adr/0003-test-services.md):
 *   1. the environment (HIX_TEST_NATS_URL, HIX_TEST_DATABASE_URL) — CI and custom setups;
 *   2. the conventional local service on loopback, if it answers;
 *   3. a container started with testcontainers, kept for the life of the process;
 *   4. otherwise a clear error that says how to get one.
 * Each answer is memoized per process, so a container is started at most once.
 */

const LOCAL_NATS_URL = "nats://127.0.0.1:4222";
const LOCAL_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres";
const NATS_IMAGE = "nats:2.10";
const POSTGRES_IMAGE = "postgres:15-alpine";

let natsUrlPromise: Promise<string> | undefined;
let postgresUrlPromise: Promise<string> | undefined;

/** URL of a NATS server with JetStream enabled. */
export function natsUrl(): Promise<string> {
  natsUrlPromise ??= discoverNats();
  return natsUrlPromise;
}

/** URL of a PostgreSQL server whose user may CREATE DATABASE. */
export function postgresUrl(): Promise<string> {
  postgresUrlPromise ??= discoverPostgres();
  return postgresUrlPromise;
}

/** The discovery itself, unmemoized; parameters exist for tests of the fallbacks. */
export async function discoverNats(
  env: NodeJS.ProcessEnv = process.env,
  localUrl: string = LOCAL_NATS_URL,
): Promise<string> {
  const fromEnv = env["HIX_TEST_NATS_URL"];
  if (fromEnv) return fromEnv;
  if (await natsAnswers(localUrl)) return localUrl;
  try {
    const { GenericContainer, Wait } = await import("testcontainers");
    const container = await new GenericContainer(NATS_IMAGE)
      .withCommand(["-js"])
      .withExposedPorts(4222)
      .withWaitStrategy(Wait.forLogMessage(/Server is ready/))
      .start();
    // Kept for the process; testcontainers' reaper removes it when the process ends.
    return `nats://${container.getHost()}:${container.getMappedPort(4222)}`;
  } catch (err) {
    throw new TestkitError(
      "testkit.no_nats",
      `no NATS server for tests: HIX_TEST_NATS_URL is not set, nothing answers at ${localUrl}, ` +
        `and starting a ${NATS_IMAGE} container failed (${describe(err)}). ` +
        "Run `nats-server -js` locally, set HIX_TEST_NATS_URL, or start Docker.",
      { cause: err },
    );
  }
}

/** The discovery itself, unmemoized; parameters exist for tests of the fallbacks. */
export async function discoverPostgres(
  env: NodeJS.ProcessEnv = process.env,
  localUrl: string = LOCAL_POSTGRES_URL,
): Promise<string> {
  const fromEnv = env["HIX_TEST_DATABASE_URL"];
  if (fromEnv) return fromEnv;
  if (await postgresAnswers(localUrl)) return localUrl;
  try {
    const { PostgreSqlContainer } = await import("@testcontainers/postgresql");
    const container = await new PostgreSqlContainer(POSTGRES_IMAGE).start();
    return container.getConnectionUri();
  } catch (err) {
    throw new TestkitError(
      "testkit.no_postgres",
      `no PostgreSQL server for tests: HIX_TEST_DATABASE_URL is not set, nothing answers at ${localUrl}, ` +
        `and starting a ${POSTGRES_IMAGE} container failed (${describe(err)}). ` +
        "Run PostgreSQL locally with trust auth for user postgres, set HIX_TEST_DATABASE_URL, or start Docker.",
      { cause: err },
    );
  }
}

/** Whether a NATS server answers at the URL (connects and completes the INFO/CONNECT handshake). */
export async function natsAnswers(url: string, timeoutMs = 1500): Promise<boolean> {
  try {
    const nc = await connect({ servers: url, timeout: timeoutMs, reconnect: false });
    await nc.close();
    return true;
  } catch {
    return false;
  }
}

async function postgresAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? (err.message.split("\n")[0] ?? err.name) : String(err);
}
