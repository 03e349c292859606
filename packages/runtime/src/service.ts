import type { Logger } from "pino";

/** What a running service hands back from `start(deps)`. */
export interface RunningService {
  stop(): Promise<void>;
}

export interface RunServiceOptions {
  readonly logger: Logger;
  /** Starts the service; resolves when it is taking work. */
  readonly start: () => Promise<RunningService>;
  /** Longest time `stop()` may take on SIGINT/SIGTERM before the process exits anyway. */
  readonly graceMs?: number;
  /** Injected for tests; defaults to the process. */
  readonly process?: Pick<NodeJS.Process, "once" | "exit" | "off">;
}

/**
 * The main-loop of every service: start, then on SIGINT or SIGTERM stop intake, finish
 * in-flight work and drain — bounded by a grace timeout. A second signal exits at once.
 * Exit code 0 after a clean stop, 1 when start fails or stop overruns the grace time.
 */
export async function runService(options: RunServiceOptions): Promise<void> {
  const proc = options.process ?? process;
  const log = options.logger;
  const graceMs = options.graceMs ?? 15_000;
  let running: RunningService;
  try {
    running = await options.start();
  } catch (err) {
    log.fatal({ err }, "service failed to start");
    proc.exit(1);
    return;
  }
  log.info("service started");

  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn({ signal }, "second signal, exiting now");
      proc.exit(1);
      return;
    }
    stopping = true;
    log.info({ signal, graceMs }, "stopping");
    void stopWithin(running, graceMs).then(
      () => {
        log.info("service stopped");
        proc.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, "service did not stop cleanly");
        proc.exit(1);
      },
    );
  };
  proc.once("SIGINT", onSignal);
  proc.once("SIGTERM", onSignal);
}

/** Calls `stop()`, rejecting if it takes longer than `graceMs`. */
export async function stopWithin(running: RunningService, graceMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`stop did not finish within ${graceMs} ms`)), graceMs);
  });
  try {
    await Promise.race([running.stop(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
