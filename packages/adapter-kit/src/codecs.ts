/**
 * One door to the four codecs (packages/hl7v2, fhir, ccda, csv), so the adapter, the
 * conformance suite and `hix convert` drive them alike: local text in, `Conversion` out
 * (and canonical bodies back to a local format). Facility specifics — the MRN system, code
 * maps, quirks, hooks — are applied here, after the pure codec ran.
 */
import { ccdaToCanonical } from "@hix/ccda";
import { csvToCanonical } from "@hix/csv";
import { canonicalToFhir, fhirToCanonical } from "@hix/fhir";
import { canonicalToHl7v2, hl7v2ToCanonical } from "@hix/hl7v2";
import { ConversionError, Envelope, type Conversion, type EnvelopeBody } from "@hix/proto";
import type { Hooks } from "./hooks.js";
import { applyCodeMaps } from "./code-maps.js";
import type { FacilityProfile, InboundFormat, OutboundFormat } from "./profile.js";

export interface ConvertContext {
  readonly profile?: FacilityProfile;
  readonly hooks?: Hooks;
  /** MSH-10 base for rendered HL7 v2 (the envelope id, so a redelivery renders the same message). */
  readonly controlId?: string;
}

/** Splits ER7 text holding several messages one after another (each starts with MSH). */
export function splitMessages(text: string): string[] {
  const out: string[] = [];
  for (const segment of text.split(/\r\n|\r|\n/)) {
    if (segment === "") continue;
    if (segment.startsWith("MSH") || out.length === 0) out.push(`${segment}\r`);
    else out[out.length - 1] += `${segment}\r`;
  }
  return out;
}

/** Local input → canonical bodies, with the facility's code maps and hooks applied. */
export function convertInbound(format: InboundFormat, input: string, ctx: ConvertContext = {}): Conversion {
  const profile = ctx.profile;
  const text = ctx.hooks?.beforeConvert?.(input, format) ?? input;
  const facilityId = profile?.id;
  const mrnSystem = profile?.mrn.system || undefined;
  let conversion: Conversion;
  switch (format) {
    case "hl7v2": {
      conversion = hl7v2ToCanonical(text, {
        ...(facilityId ? { facilityId } : {}),
        ...(profile ? { mrnTypeCodes: [profile.mrn.typeCode] } : {}),
      });
      break;
    }
    case "fhir":
      conversion = fhirToCanonical(text, {
        ...(facilityId ? { facilityId } : {}),
        ...(mrnSystem ? { mrnSystem } : {}),
      });
      break;
    case "ccda":
      conversion = ccdaToCanonical(text, {
        ...(facilityId ? { facilityId } : {}),
        ...(mrnSystem ? { mrnRoot: mrnSystem } : {}),
      });
      break;
    case "csv": {
      if (profile?.csv === undefined)
        throw new ConversionError(
          "csv.no_mapping",
          "profile.csv",
          "CSV needs a column mapping in the facility profile",
        );
      // Rows become this facility's patients (the reconciler indexes a patient under its source facility).
      conversion = csvToCanonical(text, profile.csv, { facilityId: profile.id });
      break;
    }
  }
  const mapped = profile === undefined ? conversion : applyCodeMaps(conversion, profile.codeMaps);
  return ctx.hooks?.afterConvert?.(mapped, format) ?? mapped;
}

/** What `render` produces: text plus the media type and file extension it should travel with. */
export interface Rendered {
  readonly text: string;
  readonly mediaType: string;
  readonly extension: string;
}

/** Canonical bodies → the facility's format. */
export function renderOutbound(
  format: OutboundFormat,
  bodies: readonly EnvelopeBody[],
  ctx: ConvertContext = {},
): Rendered[] {
  const list = ctx.hooks?.beforeRender?.(bodies, format) ?? bodies;
  switch (format) {
    case "fhir":
      return [
        {
          text: `${JSON.stringify(canonicalToFhir(list), null, 2)}\n`,
          mediaType: "application/fhir+json",
          extension: "json",
        },
      ];
    case "canonical":
      return [
        {
          text: `${JSON.stringify(list.map(bodyToJson), null, 2)}\n`,
          mediaType: "application/json",
          extension: "json",
        },
      ];
    case "hl7v2": {
      const messages: string[] = [];
      for (const [i, body] of list.entries()) {
        const text = canonicalToHl7v2(body, {
          sendingFacility: "HIX",
          receivingFacility: ctx.profile?.id ?? "",
          ...(ctx.controlId === undefined
            ? {}
            : { controlId: `${ctx.controlId.slice(0, 17)}${list.length > 1 ? i + 1 : ""}` }),
        });
        messages.push(...splitMessages(text));
      }
      return messages.map((text) => ({ text, mediaType: "x-application/hl7-v2+er7", extension: "hl7" }));
    }
  }
}

const BODY_KEYS = new Set([
  "recordRequest",
  "recordTransfer",
  "referralPacket",
  "patientAnnouncement",
  "receipt",
  "identityAlert",
  "receiptBatch",
]);

/** proto3 JSON of one envelope body, as `{ "<case>": {...} }` (Envelope.toJSON renders the oneof so). */
export function bodyToJson(body: EnvelopeBody): Record<string, unknown> {
  const json = Envelope.toJSON({ ...Envelope.create(), body }) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(json).filter(([k]) => BODY_KEYS.has(k)));
}

/** Picks the inbound format from a file name's extension; undefined when it does not tell. */
export function formatFromFileName(name: string): InboundFormat | undefined {
  const lower = name.toLowerCase();
  if (lower.endsWith(".hl7") || lower.endsWith(".er7") || lower.endsWith(".txt")) return "hl7v2";
  if (lower.endsWith(".json")) return "fhir";
  if (lower.endsWith(".xml") || lower.endsWith(".ccda") || lower.endsWith(".cda")) return "ccda";
  if (lower.endsWith(".csv")) return "csv";
  return undefined;
}
