import { connect } from "nats";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { natsUrl, postgresUrl } from "./services.js";

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
