import { describe, expect, it } from "vitest";
import { DbError, DbQueryError, toDbError } from "./errors.js";

function pgError(code: string, message = "server said no"): Error {
  return Object.assign(new Error(message), { code, detail: "Key (mrn)=(12345) already exists." });
}

describe("toDbError", () => {
  it.each([
    ["40001", "db.serialization_failure", true],
    ["40P01", "db.deadlock", true],
    ["08006", "db.connection", true],
    ["57P01", "db.server_shutdown", true],
    ["23505", "db.unique_violation", false],
    ["42601", "db.query_failed", false],
  ])("maps SQLSTATE %s to %s (retryable %s)", (sqlState, code, retryable) => {
    const err = toDbError(pgError(sqlState), "insert patient");
    expect(err).toBeInstanceOf(DbQueryError);
    expect(err).toMatchObject({ code, retryable, sqlState });
    expect((err as Error).message).toContain("insert patient");
  });

  it("never copies the row detail (may hold PHI) into the message", () => {
    const err = toDbError(pgError("23505"), "insert patient") as Error;
    expect(err.message).not.toContain("12345");
  });

  it("treats refused and reset sockets as retryable connection errors", () => {
    const err = toDbError(
      Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
      "connect",
    );
    expect(err).toMatchObject({ code: "db.connection", retryable: true });
  });

  it("leaves the caller's own errors and DbErrors alone", () => {
    const own = new TypeError("bad input");
    expect(toDbError(own, "x")).toBe(own);
    const db = new DbError("db.x", "already ours");
    expect(toDbError(db, "x")).toBe(db);
  });
});
