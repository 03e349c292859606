/**
 * Synchronous clean-up run when the test process ends without the test calling stop()
 * (a crash, an interrupted run): kill the child servers we spawned, remove their temp dirs.
 * Only synchronous work is possible in an `exit` handler.
 */
const tasks = new Set<() => void>();
let installed = false;

function runAll(): void {
  for (const task of tasks) {
    try {
      task();
    } catch {
      // best effort: the process is ending anyway
    }
  }
  tasks.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.once("exit", runAll);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      runAll();
      // Re-raise so the process still ends the way the signal asked, unless someone else
      // (a test runner) handles the signal itself.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

/** Registers a clean-up; the returned function unregisters it (after a normal stop()). */
export function onProcessExit(task: () => void): () => void {
  install();
  tasks.add(task);
  return () => {
    tasks.delete(task);
  };
}
