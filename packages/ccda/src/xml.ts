import { XMLParser, XMLValidator } from "fast-xml-parser";
import { ConversionError } from "@hix/proto";

/**
 * A guarded XML reader for C-CDA and a small element view with XPath-ish locations.
 *
 * Guards: a CDA document never needs a DTD (CDA R2 is defined by an XML Schema), so any
 * `<!DOCTYPE` or `<!ENTITY` is refused before parsing — no external entities (XXE), no
 * entity expansion (billion laughs). The parser's own entity processing is switched off;
 * the five predefined entities and numeric character references are decoded here, one
 * pass, without recursion. Input larger than `maxBytes` is refused before it is read.
 */

/** Default upper bound on a C-CDA document: 20 MiB (large CCDs are a few MiB). */
export const DEFAULT_MAX_BYTES = 20 * 1024 * 1024;

type RawNode = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  // sdtc:deceasedInd and friends become deceasedInd; xsi:type becomes @_type.
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  alwaysCreateTextNode: true,
  trimValues: true,
  processEntities: false,
  // Every element is an array so that navigation never depends on how many there are.
  isArray: (_name: string, _path: unknown, _leaf: boolean, isAttribute: boolean) => !isAttribute,
  // Section narrative (CDA <text>) is mixed content; it is kept raw and flattened by textContent.
  stopNodes: ["*.text"],
});

const PREDEFINED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** Decodes the XML predefined entities and numeric character references (one pass, no recursion). */
export function decodeEntities(s: string): string {
  if (!s.includes("&")) return s;
  return s.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-z]{2,4});/g, (whole, ref: string) => {
    if (ref.startsWith("#x")) return safeCodePoint(parseInt(ref.slice(2), 16)) ?? whole;
    if (ref.startsWith("#")) return safeCodePoint(parseInt(ref.slice(1), 10)) ?? whole;
    return PREDEFINED[ref] ?? whole;
  });
}

function safeCodePoint(n: number): string | undefined {
  return Number.isFinite(n) && n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : undefined;
}

/** One element with the XPath-ish path it was reached by (used as error and warning location). */
export class El {
  constructor(
    readonly name: string,
    readonly path: string,
    private readonly node: RawNode,
  ) {}

  /** Child elements with this local name, in document order. */
  all(name: string): El[] {
    const raw = this.node[name];
    if (!Array.isArray(raw)) return [];
    const many = raw.length > 1;
    return raw.map((n, i) => new El(name, `${this.path}/${name}${many ? `[${i + 1}]` : ""}`, toNode(n)));
  }

  /** The first child element with this local name. */
  one(name: string): El | undefined {
    return this.all(name)[0];
  }

  /** Follows a chain of child names, taking the first match at each step. */
  at(...names: string[]): El | undefined {
    return names.reduce<El | undefined>((cur, n) => cur?.one(n), this);
  }

  /** Attribute value (namespace prefix removed, entities decoded), or undefined when absent or blank. */
  attr(name: string): string | undefined {
    const v = this.node[`@_${name}`];
    if (typeof v !== "string") return undefined;
    const s = decodeEntities(v).trim();
    return s === "" ? undefined : s;
  }

  /** Location of an attribute of this element. */
  attrPath(name: string): string {
    return `${this.path}/@${name}`;
  }

  /** xsi:type without any namespace prefix, e.g. "PQ", "CD", "IVL_TS". */
  get xsiType(): string | undefined {
    const t = this.attr("type");
    return t?.includes(":") ? t.slice(t.indexOf(":") + 1) : t;
  }

  /**
   * The element's text with markup removed and whitespace collapsed: direct text for simple
   * elements, flattened narrative for CDA <text> (kept raw by the parser). Child element
   * text of non-narrative elements is not included.
   */
  get text(): string {
    const raw = this.node["#text"];
    const s = typeof raw === "string" ? raw : "";
    return flattenMarkup(s);
  }

  get nullFlavor(): string | undefined {
    return this.attr("nullFlavor");
  }

  /** The templateId roots of this element. */
  templateRoots(): string[] {
    return this.all("templateId")
      .map((t) => t.attr("root"))
      .filter((r): r is string => r !== undefined);
  }

  hasTemplate(...roots: string[]): boolean {
    return this.templateRoots().some((r) => roots.includes(r));
  }
}

function toNode(n: unknown): RawNode {
  if (n !== null && typeof n === "object") return n as RawNode;
  return { "#text": typeof n === "string" ? n : "" };
}

/** Removes tags from narrative markup, turns <br/> and block ends into line breaks, decodes entities. */
function flattenMarkup(s: string): string {
  if (!s.includes("<")) return decodeEntities(s).replace(/\s+/g, " ").trim();
  const withBreaks = s
    .replace(/<!--[\s\S]*?-->/g, "")
    .replace(/<br\s*\/?>/gi, "\n")
    .replace(/<\/(paragraph|tr|item|caption|list|table)>/gi, "\n")
    .replace(/<\/td>|<\/th>/gi, " ")
    .replace(/<[^>]*>/g, "");
  return decodeEntities(withBreaks)
    .split("\n")
    .map((l) => l.replace(/\s+/g, " ").trim())
    .filter((l) => l !== "")
    .join("\n");
}

/**
 * Reads a C-CDA document into its root element. Refuses, with a ConversionError that gives
 * sizes and positions only: input over the size limit, a DTD or entity declaration, text that
 * is not well-formed XML, and a root element other than ClinicalDocument.
 */
export function parseClinicalDocument(
  input: string | Uint8Array,
  maxBytes: number,
): { root: El; bytes: Buffer } {
  const bytes = typeof input === "string" ? Buffer.from(input, "utf8") : Buffer.from(input);
  if (bytes.length > maxBytes) {
    throw new ConversionError(
      "ccda.too_large",
      "/",
      `document is ${bytes.length} bytes, over the limit of ${maxBytes} bytes`,
    );
  }
  // A UTF-8 byte order mark is allowed and skipped; the original bytes keep it.
  let xml = (typeof input === "string" ? input : new TextDecoder("utf-8").decode(bytes)).replace(
    /^\uFEFF/,
    "",
  );
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) {
    throw new ConversionError(
      "ccda.doctype_refused",
      "/",
      "document type declarations and entity declarations are not accepted in C-CDA (XXE / entity expansion guard)",
    );
  }
  xml = xml.trimStart();
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    // The validator's message can quote tag names; only its code and position are passed on.
    throw new ConversionError(
      "ccda.not_xml",
      `line ${valid.err.line}, column ${valid.err.col}`,
      `input is not well-formed XML (${valid.err.code})`,
    );
  }
  const doc = parser.parse(xml) as RawNode;
  const elements = Object.keys(doc).filter(
    (k) => !k.startsWith("?") && !k.startsWith("#") && !k.startsWith("@_"),
  );
  const rootName = elements[0];
  if (elements.length !== 1 || rootName !== "ClinicalDocument") {
    throw new ConversionError(
      "ccda.not_clinical_document",
      "/",
      "root element is not a CDA ClinicalDocument (urn:hl7-org:v3)",
    );
  }
  const first = (doc[rootName] as unknown[])[0];
  return { root: new El(rootName, `/${rootName}`, toNode(first)), bytes };
}
