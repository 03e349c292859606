/**
 * The watched inbox folder. Every regular file that appears in `dir` is converted and
 * submitted, then moved to `done/`, or to `error/` with `<file>.reason.txt` beside it.
 * A file is never deleted, and never moved before its outcome is known: when the bus is
 * down the file stays where it is and is tried again on the next poll.
 *
 * Polling (not fs.watch) because it behaves the same on every file system, network shares
 * included, and a file is only taken once its size has stopped changing between two polls
 * (a sender may still be writing it). Names starting with "." are ignored (temp files).
 */
import { mkdir, readFile, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { ConversionError } from "@hix/proto";
import { formatFromFileName } from "./codecs.js";
import type { DocumentResult } from "./intake.js";
import { AdapterError } from "./intake.js";
import type { InboundFormat } from "./profile.js";
import { moveInto, reasonText } from "./quarantine.js";
import { writeFile } from "node:fs/promises";

export interface InboxOptions {
  readonly dir: string;
  readonly pollMs: number;
  /** Format of files whose extension does not tell. */
  readonly format?: InboundFormat | undefined;
  readonly handle: (format: InboundFormat, text: string, source: string) => Promise<DocumentResult>;
  readonly onEvent?: (event: InboxEvent) => void;
}

export type InboxEvent =
  | { readonly type: "done"; readonly file: string; readonly envelopes: number }
  | { readonly type: "error"; readonly file: string; readonly code: string }
  | { readonly type: "retry"; readonly file: string; readonly code: string };

export interface Inbox {
  /** Runs one scan now (tests); resolves when every ready file was handled. */
  scan(): Promise<void>;
  stop(): Promise<void>;
}

export async function startInbox(options: InboxOptions): Promise<Inbox> {
  await mkdir(options.dir, { recursive: true });
  const doneDir = join(options.dir, "done");
  const errorDir = join(options.dir, "error");
  const lastSize = new Map<string, number>();
  let running: Promise<void> | undefined;
  let stopped = false;

  const handleFile = async (name: string): Promise<void> => {
    const file = join(options.dir, name);
    const format = formatFromFileName(name) ?? options.format;
    const fail = async (code: string, location: string, message: string): Promise<void> => {
      const moved = await moveInto(errorDir, file);
      await writeFile(`${moved}.reason.txt`, reasonText({ code, location, message }, { file: name }));
      options.onEvent?.({ type: "error", file: name, code });
    };
    if (format === undefined) {
      await fail(
        "adapter.unknown_format",
        name,
        "the file's extension does not say its format and the inbox has no default format",
      );
      return;
    }
    const text = await readFile(file, "utf8");
    try {
      const result = await options.handle(format, text, `inbox:${name}`);
      await moveInto(doneDir, file);
      options.onEvent?.({ type: "done", file: name, envelopes: result.envelopeIds.length });
    } catch (err) {
      if (err instanceof ConversionError) return fail(err.code, err.location, err.message);
      if (err instanceof AdapterError && !err.retryable) return fail(err.code, "", err.message);
      if (err instanceof Error && "retryable" in err && err.retryable === false && "code" in err)
        return fail(String(err.code), "", err.message);
      // Transient (bus down): leave the file for the next poll.
      options.onEvent?.({
        type: "retry",
        file: name,
        code: err instanceof Error && "code" in err ? String(err.code) : "internal",
      });
    }
  };

  const scanOnce = async (): Promise<void> => {
    const entries = await readdir(options.dir, { withFileTypes: true });
    for (const entry of entries) {
      if (stopped) return;
      if (!entry.isFile() || entry.name.startsWith(".") || entry.name.endsWith(".reason.txt")) continue;
      const size = (await stat(join(options.dir, entry.name))).size;
      // Take a file only when its size held still since the last scan.
      if (lastSize.get(entry.name) !== size) {
        lastSize.set(entry.name, size);
        continue;
      }
      lastSize.delete(entry.name);
      await handleFile(entry.name);
    }
  };

  const scan = (): Promise<void> => {
    running ??= scanOnce().finally(() => {
      running = undefined;
    });
    return running;
  };

  const timer = setInterval(() => {
    scan().catch((err: unknown) =>
      options.onEvent?.({ type: "retry", file: "", code: err instanceof Error ? err.name : "internal" }),
    );
  }, options.pollMs);

  return {
    scan: async () => {
      // Two scans: the first records sizes, the second takes files whose size held.
      await scan();
      await scan();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
