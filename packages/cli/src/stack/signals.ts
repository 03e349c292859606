/**
 * Resolves on the first SIGINT or SIGTERM and keeps swallowing later ones. Ctrl-C in a terminal
 * signals the whole process group, and bin/hix.js forwards the signal too, so a command that
 * stops a stack sees two in a row; the second must not kill it half-way through stopping.
 */
export function stopSignal(): { readonly received: Promise<NodeJS.Signals>; dispose(): void } {
  let resolve!: (signal: NodeJS.Signals) => void;
  const received = new Promise<NodeJS.Signals>((r) => (resolve = r));
  const handler = (signal: NodeJS.Signals): void => resolve(signal);
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return {
    received,
    dispose() {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
    },
  };
}
