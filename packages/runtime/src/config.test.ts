import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ConfigError, loadConfig } from "./config.js";

const schema = z.object({
  HIX_NATS_URL: z.string().url(),
  HIX_CONCURRENCY: z.coerce.number().int().positive(),
  HIX_FACILITY: z.string().min(1),
});

describe("loadConfig", () => {
  it("reports every problem together, each naming its key", () => {
    let error: unknown;
    try {
      loadConfig(schema, { HIX_NATS_URL: "not a url", HIX_CONCURRENCY: "-3" });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(3);
    expect(problems.join("\n")).toMatch(/HIX_NATS_URL/);
    expect(problems.join("\n")).toMatch(/HIX_CONCURRENCY/);
    expect(problems.join("\n")).toMatch(/HIX_FACILITY/);
  });

  it("returns a deeply frozen typed object", () => {
    const config = loadConfig(z.object({ a: z.object({ b: z.coerce.number() }) }), {
      a: { b: "4" },
    } as never);
    expect(config.a.b).toBe(4);
    expect(Object.isFrozen(config.a)).toBe(true);
  });
});
