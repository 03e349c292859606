import type { Resource } from "@medplum/fhirtypes";
import type { ConversionWarning } from "@hix/proto";
import type { Entry, ReferenceIndex, Resolved } from "./bundle.js";

/** What every mapping function needs: the reference index of the input and a place for warnings. */
export interface MapContext {
  readonly index: ReferenceIndex;
  readonly warnings: ConversionWarning[];
  /** The resource being mapped, for `#contained` references. */
  readonly resource: Resource | undefined;
  readonly mrnSystem: string | undefined;
}

export function warn(ctx: MapContext, code: string, location: string, message: string): void {
  ctx.warnings.push({ code, location, message });
}

export function resolve(ctx: MapContext, reference: unknown): Resolved | undefined {
  return ctx.index.resolve(reference, ctx.resource);
}

/**
 * The canonical, source-local id of a resource: its logical id, else its first
 * identifier value, else the uuid of its `urn:uuid:` fullUrl, else "".
 */
export function localId(resource: Resource, fullUrl?: string): string {
  if (typeof resource.id === "string" && resource.id !== "") return resource.id;
  const identifiers: unknown = (resource as { identifier?: unknown }).identifier;
  const first: unknown = Array.isArray(identifiers) ? identifiers[0] : identifiers;
  if (typeof first === "object" && first !== null) {
    const value = (first as { value?: unknown }).value;
    if (typeof value === "string" && value !== "") return value;
  }
  const uuid = fullUrl !== undefined ? /^urn:uuid:(.+)$/.exec(fullUrl)?.[1] : undefined;
  return uuid ?? "";
}

/** The local id a reference names: the target's id when it is in the input, else what the reference text says. */
export function referencedId(ctx: MapContext, reference: unknown): string {
  const r = resolve(ctx, reference);
  if (r === undefined) return "";
  if (r.kind === "entry") return localId(r.entry.resource, r.entry.fullUrl);
  if (r.kind === "contained") return localId(r.resource);
  return r.id ?? r.identifier?.value ?? "";
}

export type { Entry };
