import { connect } from "nats";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { TestkitError } from "./errors.js";
import { freePort } from "./nats-server.js";
import { discoverNats, discoverPostgres, natsUrl, postgresUrl } from "./services.js";

describe("natsUrl", () => {
  it("finds a NATS server with JetStream enabled", async () => {
    const nc = await connect({ servers: await natsUrl(), timeout: 3000 });
    try {
      const jsm = await nc.jetstreamManager();
      const info = await jsm.getAccountInfo();
      expect(info.limits).toBeDefined();
      expect(typeof info.streams).toBe("number");
    } finally {
      await nc.close();
    }
  });

  it("answers the same URL every time in one process", async () => {
    expect(await natsUrl()).toBe(await natsUrl());
  });
});

describe("postgresUrl", () => {
  it("finds a PostgreSQL server whose user may create databases", async () => {
    const client = new pg.Client({ connectionString: await postgresUrl() });
    await client.connect();
    try {
      const { rows } = await client.query<{ rolcreatedb: boolean; rolsuper: boolean }>(
        "SELECT rolcreatedb, rolsuper FROM pg_roles WHERE rolname = current_user",
      );
      expect(rows[0]?.rolcreatedb || rows[0]?.rolsuper).toBe(true);
    } finally {
      await client.end();
    }
  });
});

describe("discovery order", () => {
  it("takes the environment first, without probing", async () => {
    expect(await discoverNats({ HIX_TEST_NATS_URL: "nats://example.invalid:1" }, "nats://127.0.0.1:1")).toBe(
      "nats://example.invalid:1",
    );
    expect(await discoverPostgres({ HIX_TEST_DATABASE_URL: "postgres://x@example.invalid/db" })).toBe(
      "postgres://x@example.invalid/db",
    );
  });

  it("takes the local service when it answers", async () => {
    const local = await natsUrl();
    expect(await discoverNats({}, local)).toBe(local);
  });

  // Nothing listens on the closed port; then testcontainers is tried. Where Docker exists it
  // starts a container (a URL comes back); where it does not, the error must say what to do.
  it("falls back to a container, else says how to get a server", async () => {
    const closed = `nats://127.0.0.1:${await freePort()}`;
    const outcome = await discoverNats({}, closed).then(
      (url) => ({ url }),
      (err: unknown) => ({ err }),
    );
    if ("url" in outcome) {
      expect(outcome.url).not.toBe(closed);
    } else {
      expect(outcome.err).toBeInstanceOf(TestkitError);
      expect((outcome.err as Error).message).toMatch(
        /HIX_TEST_NATS_URL.*nats-server -js|nats-server -js.*HIX_TEST_NATS_URL/s,
      );
      expect((outcome.err as Error).message).toContain(closed);
    }
  });
});
