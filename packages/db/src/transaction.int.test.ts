import { createTestDatabase, type TestDatabase } from "@hix/testkit";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DbQueryError } from "./errors.js";
import { createPool, type Pool } from "./pool.js";
import { withTransaction } from "./transaction.js";

describe("withTransaction", () => {
  let db: TestDatabase;
  let pool: Pool;

  beforeAll(async () => {
    db = await createTestDatabase("tx");
    pool = createPool(db.url, { max: 4, applicationName: "hix-db-test" });
    await pool.query("CREATE TABLE counter (id int PRIMARY KEY, v int NOT NULL)");
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });
  beforeEach(async () => {
    await pool.query("TRUNCATE counter");
    await pool.query("INSERT INTO counter VALUES (1, 0)");
  });

  const value = async (): Promise<number> =>
    (await pool.query<{ v: number }>("SELECT v FROM counter WHERE id = 1")).rows[0]?.v ?? NaN;

  it("commits and returns what fn returned", async () => {
    const out = await withTransaction(pool, async (c) => {
      await c.query("UPDATE counter SET v = 5 WHERE id = 1");
      return "done";
    });
    expect(out).toBe("done");
    expect(await value()).toBe(5);
  });

  it("runs beginWith with BEGIN, hands fn its rows, and holds its lock until commit", async () => {
    const order: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const first = withTransaction(
      pool,
      async (c, begun) => {
        expect(begun).toEqual([{ v: 0 }]);
        order.push("first locked");
        await held;
        await c.query("UPDATE counter SET v = v + 1 WHERE id = 1");
        order.push("first done");
      },
      { beginWith: "SELECT v FROM counter WHERE id = 1 FOR UPDATE" },
    );
    await new Promise((r) => setTimeout(r, 100));
    const second = withTransaction(
      pool,
      async (_c, begun) => {
        order.push(`second locked, saw ${String(begun[0]?.["v"])}`);
      },
      { beginWith: "SELECT v FROM counter WHERE id = 1 FOR UPDATE" },
    );
    await new Promise((r) => setTimeout(r, 100));
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(["first locked", "first done", "second locked, saw 1"]);
  });

  it("rolls back when fn throws, and passes the caller's error through unchanged", async () => {
    const boom = new Error("caller failed");
    const err = await withTransaction(pool, async (c) => {
      await c.query("UPDATE counter SET v = 99 WHERE id = 1");
      throw boom;
    }).catch((e: unknown) => e);
    expect(err).toBe(boom);
    expect(await value()).toBe(0);
  });

  // REPEATABLE READ: our snapshot is taken at the first SELECT; a concurrent committed
  // update of the same row makes our UPDATE fail with 40001 (could not serialize access).
  const conflictingIncrement = (attempts: { n: number }, conflictOn: (n: number) => boolean) =>
    withTransaction(
      pool,
      async (c) => {
        attempts.n++;
        await c.query("SELECT v FROM counter WHERE id = 1");
        if (conflictOn(attempts.n)) await pool.query("UPDATE counter SET v = v + 1 WHERE id = 1");
        await c.query("UPDATE counter SET v = v + 10 WHERE id = 1");
      },
      { isolation: "repeatable read", maxAttempts: 3, backoffMs: 1 },
    );

  it("runs fn again after a serialization failure", async () => {
    const attempts = { n: 0 };
    await conflictingIncrement(attempts, (n) => n === 1);
    expect(attempts.n).toBe(2);
    expect(await value()).toBe(11); // the concurrent +1, then our +10 once
  });

  it("gives up after maxAttempts with a retryable DbError", async () => {
    const attempts = { n: 0 };
    const err = await conflictingIncrement(attempts, () => true).catch((e: unknown) => e);
    expect(attempts.n).toBe(3);
    expect(err).toBeInstanceOf(DbQueryError);
    expect(err).toMatchObject({ code: "db.serialization_failure", retryable: true, sqlState: "40001" });
    expect(await value()).toBe(3); // only the three concurrent updates landed
  });

  it("does not retry a permanent error, and reports it as a DbError", async () => {
    let attempts = 0;
    const err = await withTransaction(pool, async (c) => {
      attempts++;
      await c.query("INSERT INTO counter VALUES (1, 1)");
    }).catch((e: unknown) => e);
    expect(attempts).toBe(1);
    expect(err).toMatchObject({ code: "db.unique_violation", retryable: false, sqlState: "23505" });
  });
});
