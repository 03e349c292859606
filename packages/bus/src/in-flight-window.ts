// A bound on work in flight: the consumer's handlers, and the benchmarks' publishers and relay.

export interface InFlightWindow {
  /** Tracks `task`; resolves once fewer than `limit` tasks are in flight. */
  add(task: Promise<unknown>): Promise<void>;
  /** Resolves when every task added has settled. */
  drain(): Promise<void>;
}

/**
 * One waiter, woken by whichever task ends first. (`Promise.race` over the pending set would add
 * a reaction to every pending task each time one is added: O(limit) work per task.)
 */
export function inFlightWindow(limit: number): InFlightWindow {
  const pending = new Set<Promise<unknown>>();
  let slotFreed: (() => void) | undefined;
  return {
    async add(task) {
      pending.add(task);
      void task
        .catch(() => undefined)
        .finally(() => {
          pending.delete(task);
          slotFreed?.();
          slotFreed = undefined;
        });
      if (pending.size >= limit) await new Promise<void>((resolve) => (slotFreed = resolve));
    },
    async drain() {
      await Promise.allSettled(pending);
    },
  };
}
