import type { Resource } from "@medplum/fhirtypes";
import { ConversionError } from "@hix/proto";

/** One resource found in the input, with where it was and how its Bundle entry named it. */
export interface Entry {
  readonly resource: Resource;
  /** JSON path of the resource, e.g. `Bundle.entry[2].resource`. */
  readonly path: string;
  /** Bundle.entry.fullUrl, when the resource came in a Bundle. */
  readonly fullUrl: string | undefined;
  /** Bundle.entry.request.method (transaction / batch), upper case. */
  readonly method: string | undefined;
  /** Bundle.entry.request.url, e.g. a conditional update `Patient?identifier=…`. */
  readonly requestUrl: string | undefined;
}

export interface FlattenResult {
  readonly entries: Entry[];
  /** Entries that carried no resource (DELETE, GET) or a second copy of one already seen. */
  readonly skipped: { path: string; code: string; message: string }[];
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function str(x: unknown): string | undefined {
  return typeof x === "string" && x !== "" ? x : undefined;
}

/** Checks that `value` looks like a FHIR resource (an object with a resourceType). */
export function asResource(value: unknown, path: string): Resource {
  if (!isObject(value) || typeof value["resourceType"] !== "string" || value["resourceType"] === "") {
    throw new ConversionError("fhir.not_a_resource", path, "not a FHIR resource (no resourceType)");
  }
  return value as unknown as Resource;
}

/**
 * Every resource of the input in document order, Bundles opened recursively (a
 * transaction may carry a document Bundle as an entry). Bundle.type does not change
 * how entries are read: transaction, batch, collection, document, searchset and
 * history all hold their resources in entry[].resource.
 */
export function flatten(root: Resource, rootPath: string): FlattenResult {
  const entries: Entry[] = [];
  const skipped: FlattenResult["skipped"] = [];
  const seen = new Set<string>();
  const visit = (
    resource: Resource,
    path: string,
    fullUrl?: string,
    method?: string,
    requestUrl?: string,
  ) => {
    if (resource.resourceType === "Bundle") {
      const list: unknown = resource.entry;
      if (list !== undefined && !Array.isArray(list)) {
        throw new ConversionError("fhir.malformed", `${path}.entry`, "Bundle.entry is not an array");
      }
      (list ?? []).forEach((raw: unknown, i: number) => {
        const entryPath = `${path}.entry[${i}]`;
        if (!isObject(raw))
          throw new ConversionError("fhir.malformed", entryPath, "Bundle entry is not an object");
        const request = isObject(raw["request"]) ? raw["request"] : undefined;
        const entryMethod = str(request?.["method"])?.toUpperCase();
        const entryUrl = str(request?.["url"]);
        if (raw["resource"] === undefined) {
          skipped.push({
            path: entryPath,
            code: "fhir.entry_without_resource",
            message: `entry without a resource (${entryMethod ?? "no request"}) not mapped`,
          });
          return;
        }
        const child = asResource(raw["resource"], `${entryPath}.resource`);
        visit(child, `${entryPath}.resource`, str(raw["fullUrl"]), entryMethod, entryUrl);
      });
      return;
    }
    const key = resource.id !== undefined ? `${resource.resourceType}/${resource.id}` : undefined;
    const identity = fullUrl ?? key;
    if (identity !== undefined && seen.has(identity)) {
      skipped.push({
        path,
        code: "fhir.duplicate_resource",
        message: `second copy of a ${resource.resourceType} ignored`,
      });
      return;
    }
    if (identity !== undefined) seen.add(identity);
    if (key !== undefined && fullUrl !== undefined) seen.add(key);
    entries.push({ resource, path, fullUrl, method, requestUrl });
  };
  visit(root, rootPath);
  return { entries, skipped };
}

/** What a reference pointed at: an entry of the input, or just what the reference itself says. */
export type Resolved =
  | { kind: "entry"; entry: Entry }
  | { kind: "contained"; resource: Resource }
  | {
      kind: "unresolved";
      type: string | undefined;
      /** Logical id or urn uuid taken from the reference text. */
      id: string | undefined;
      /** Identifier from a conditional reference (`?identifier=system|value`) or Reference.identifier. */
      identifier: { system: string | undefined; value: string } | undefined;
    };

/**
 * Resolves references within the input the way FHIR R4 Bundle rules do it
 * (https://hl7.org/fhir/R4/bundle.html#references), simplified to what senders use:
 * `#id` (contained), an exact fullUrl (`urn:uuid:…` or absolute URL), `Type/id`
 * (relative or at the end of an absolute URL, `_history` ignored), and conditional
 * references `Type?identifier=system|value` / `Type?_id=x` matched against the
 * resources present and against transaction request URLs.
 */
export class ReferenceIndex {
  private readonly byFullUrl = new Map<string, Entry>();
  private readonly byTypeId = new Map<string, Entry>();
  private readonly byRequestUrl = new Map<string, Entry>();
  private readonly byType = new Map<string, Entry[]>();

  constructor(entries: readonly Entry[]) {
    for (const entry of entries) {
      const { resource } = entry;
      if (entry.fullUrl !== undefined && !this.byFullUrl.has(entry.fullUrl))
        this.byFullUrl.set(entry.fullUrl, entry);
      if (resource.id !== undefined) {
        const key = `${resource.resourceType}/${resource.id}`;
        if (!this.byTypeId.has(key)) this.byTypeId.set(key, entry);
      }
      if (entry.requestUrl?.includes("?") === true && !this.byRequestUrl.has(entry.requestUrl)) {
        this.byRequestUrl.set(entry.requestUrl, entry);
      }
      const list = this.byType.get(resource.resourceType) ?? [];
      list.push(entry);
      this.byType.set(resource.resourceType, list);
    }
  }

  /** Every entry of one resource type, in input order. */
  ofType(type: string): Entry[] {
    return this.byType.get(type) ?? [];
  }

  resolve(reference: unknown, from: Resource | undefined): Resolved | undefined {
    if (!isObject(reference)) return undefined;
    const ref = str(reference["reference"]);
    const refType = str(reference["type"]);
    const identifier = isObject(reference["identifier"]) ? reference["identifier"] : undefined;
    const refIdentifier =
      str(identifier?.["value"]) !== undefined
        ? { system: str(identifier?.["system"]), value: str(identifier?.["value"]) ?? "" }
        : undefined;
    if (ref === undefined) {
      if (refIdentifier === undefined && str(reference["display"]) === undefined) return undefined;
      return { kind: "unresolved", type: refType, id: undefined, identifier: refIdentifier };
    }
    if (ref.startsWith("#")) {
      const contained: unknown = (from as { contained?: unknown } | undefined)?.contained;
      const hit = Array.isArray(contained)
        ? contained.find((c): c is Resource => isObject(c) && c["id"] === ref.slice(1))
        : undefined;
      if (hit !== undefined && typeof hit.resourceType === "string")
        return { kind: "contained", resource: hit };
      return { kind: "unresolved", type: refType, id: undefined, identifier: refIdentifier };
    }
    const direct = this.byFullUrl.get(ref);
    if (direct !== undefined) return { kind: "entry", entry: direct };
    if (ref.includes("?")) return this.resolveConditional(ref, refType, refIdentifier);
    const literal = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(ref);
    if (literal?.[1] !== undefined && literal[2] !== undefined) {
      const hit = this.byTypeId.get(`${literal[1]}/${literal[2]}`);
      if (hit !== undefined) return { kind: "entry", entry: hit };
      return { kind: "unresolved", type: literal[1], id: literal[2], identifier: refIdentifier };
    }
    const uuid = /^urn:uuid:(.+)$/.exec(ref)?.[1];
    return { kind: "unresolved", type: refType, id: uuid, identifier: refIdentifier };
  }

  private resolveConditional(
    ref: string,
    refType: string | undefined,
    refIdentifier: { system: string | undefined; value: string } | undefined,
  ): Resolved {
    const byRequest = this.byRequestUrl.get(ref);
    if (byRequest !== undefined) return { kind: "entry", entry: byRequest };
    const [type = "", query = ""] = ref.split("?", 2);
    const params = new URLSearchParams(query);
    const token = params.get("identifier");
    const id = params.get("_id");
    let identifier = refIdentifier;
    if (token !== null) {
      const bar = token.indexOf("|");
      identifier =
        bar < 0
          ? { system: undefined, value: token }
          : { system: bar === 0 ? undefined : token.slice(0, bar), value: token.slice(bar + 1) };
    }
    for (const entry of this.ofType(type)) {
      if (id !== null && entry.resource.id === id) return { kind: "entry", entry };
      if (identifier !== undefined && hasIdentifier(entry.resource, identifier))
        return { kind: "entry", entry };
    }
    return { kind: "unresolved", type: type || refType, id: id ?? undefined, identifier };
  }
}

function hasIdentifier(resource: Resource, wanted: { system: string | undefined; value: string }): boolean {
  const list: unknown = (resource as { identifier?: unknown }).identifier;
  const items = Array.isArray(list) ? list : isObject(list) ? [list] : [];
  return items.some(
    (i) =>
      isObject(i) &&
      i["value"] === wanted.value &&
      (wanted.system === undefined || i["system"] === wanted.system),
  );
}
