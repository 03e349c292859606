/**
 * Code-level overrides for a facility, for what a profile cannot say. A hooks module
 * (named by the profile's `hooks` path) default-exports, or exports as `hooks`, an object
 * with any of these functions. Each returns its (possibly changed) argument, or undefined
 * to keep it as is. Hooks run in the adapter process: they must be pure and fast, and like
 * everything else they must not log PHI.
 */
import { pathToFileURL } from "node:url";
import type { Conversion, EnvelopeBody } from "@hix/proto";
import { HixError } from "@hix/runtime";
import type { InboundFormat, OutboundFormat } from "./profile.js";

export interface Hooks {
  /** Before parsing: fix the raw text, e.g. strip a vendor's trailing garbage. */
  beforeConvert?(input: string, format: InboundFormat): string | undefined;
  /** After mapping and code maps: adjust the canonical bodies, e.g. move a Z-segment value. */
  afterConvert?(conversion: Conversion, format: InboundFormat): Conversion | undefined;
  /** Before rendering deliveries in the facility's format. */
  beforeRender?(bodies: readonly EnvelopeBody[], format: OutboundFormat): readonly EnvelopeBody[] | undefined;
}

const HOOK_NAMES = ["beforeConvert", "afterConvert", "beforeRender"] as const;

export class HooksError extends HixError {
  override name = "HooksError";
}

/** Imports a hooks module and checks its shape. */
export async function loadHooks(file: string): Promise<Hooks> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    throw new HooksError(
      "adapter.hooks_invalid",
      `cannot load hooks module ${file}: ${(err as Error).message.split("\n")[0] ?? ""}`,
      {
        cause: err,
      },
    );
  }
  const hooks = (mod["hooks"] ?? mod["default"] ?? {}) as Record<string, unknown>;
  if (typeof hooks !== "object" || hooks === null)
    throw new HooksError("adapter.hooks_invalid", `hooks module ${file} exports no hooks object`);
  for (const key of Object.keys(hooks)) {
    if (!(HOOK_NAMES as readonly string[]).includes(key))
      throw new HooksError(
        "adapter.hooks_invalid",
        `hooks module ${file}: unknown hook '${key}' (known: ${HOOK_NAMES.join(", ")})`,
      );
    if (typeof hooks[key] !== "function")
      throw new HooksError("adapter.hooks_invalid", `hooks module ${file}: '${key}' is not a function`);
  }
  return hooks;
}
