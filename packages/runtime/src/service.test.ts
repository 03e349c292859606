import { EventEmitter } from "node:events";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "./logger.js";
import { runService } from "./service.js";

function fakeProcess() {
  const emitter = new EventEmitter();
  const exits: number[] = [];
  const exited = new Promise<number>((resolve) => {
    emitter.on("exit-called", resolve);
  });
  return {
    proc: {
      once: (event: string, fn: (...a: unknown[]) => void) => emitter.once(event, fn),
      off: (event: string, fn: (...a: unknown[]) => void) => emitter.off(event, fn),
      exit: (code?: number) => {
        exits.push(code ?? 0);
        emitter.emit("exit-called", code ?? 0);
      },
    } as unknown as Pick<NodeJS.Process, "once" | "exit" | "off">,
    signal: (s: NodeJS.Signals) => emitter.emit(s, s),
    exits,
    exited,
  };
}
const quiet = createLogger({
  service: "t",
  level: "silent",
  destination: new Writable({ write: (_c, _e, d) => d() }),
});

describe("runService", () => {
  it("stops the service on SIGTERM and exits 0", async () => {
    const fake = fakeProcess();
    let stopped = false;
    await runService({
      logger: quiet,
      process: fake.proc,
      start: async () => ({ stop: async () => void (stopped = true) }),
    });
    fake.signal("SIGTERM");
    expect(await fake.exited).toBe(0);
    expect(stopped).toBe(true);
  });

  it("exits 1 when stop overruns the grace time", async () => {
    const fake = fakeProcess();
    await runService({
      logger: quiet,
      process: fake.proc,
      graceMs: 50,
      start: async () => ({ stop: () => new Promise<void>(() => undefined) }),
    });
    fake.signal("SIGINT");
    expect(await fake.exited).toBe(1);
  });

  it("exits 1 when start fails", async () => {
    const fake = fakeProcess();
    await runService({
      logger: quiet,
      process: fake.proc,
      start: () => Promise.reject(new Error("no nats")),
    });
    expect(fake.exits).toEqual([1]);
  });
});
