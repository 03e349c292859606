import { Code, type ConversionWarning, Observation, ObservationStatus, ReferenceRange } from "@hix/proto";
import type { El } from "./xml.js";
import { readCode, readId, readInstant, readQuantity, readTs } from "./datatypes.js";
import { toInstant } from "./timestamp.js";
import { entryStatements } from "./sections.js";

/** Result Observation statusCode (HL7 V3 ActStatus) → canonical status. */
const STATUSES: Record<string, ObservationStatus> = {
  completed: ObservationStatus.FINAL,
  active: ObservationStatus.PRELIMINARY,
  new: ObservationStatus.REGISTERED,
  held: ObservationStatus.REGISTERED,
  aborted: ObservationStatus.CANCELLED,
  cancelled: ObservationStatus.CANCELLED,
  nullified: ObservationStatus.ENTERED_IN_ERROR,
};

const LABORATORY = Code.fromPartial({
  system: "http://terminology.hl7.org/CodeSystem/observation-category",
  code: "laboratory",
  display: "Laboratory",
});

/**
 * Results Section entries (Result Organizer 4.1 → component/Result Observation 4.2) →
 * Observations: code, statusCode → status, effectiveTime → effective_at (the organizer's when
 * the observation has none), value by xsi:type (PQ, CD/CE/CO/CV, ST/ED, INT, REAL, BL, TS),
 * interpretationCode, referenceRange/observationRange. The organizer id is the order id.
 */
export function readResults(section: El, warnings: ConversionWarning[]): Observation[] {
  const out: Observation[] = [];
  const items: Array<{ organizer: El | undefined; obs: El }> = [];
  for (const organizer of entryStatements(section, "organizer")) {
    for (const comp of organizer.all("component")) {
      const obs = comp.one("observation");
      if (obs !== undefined) items.push({ organizer, obs });
    }
  }
  for (const obs of entryStatements(section, "observation")) items.push({ organizer: undefined, obs });
  for (const { organizer, obs } of items) {
    const code = readCode(obs.one("code"));
    if (code === undefined) {
      warnings.push({
        code: "ccda.result_without_code",
        location: obs.path,
        message: "result observation has no code; skipped",
      });
      continue;
    }
    const o = Observation.fromPartial({ id: readId(obs.one("id")), code, categories: [LABORATORY] });
    const status = obs.one("statusCode")?.attr("code") ?? organizer?.one("statusCode")?.attr("code");
    o.status = (status !== undefined ? STATUSES[status] : undefined) ?? ObservationStatus.UNSPECIFIED;
    const effective = readInstant(obs.one("effectiveTime")) ?? readInstant(organizer?.one("effectiveTime"));
    if (effective !== undefined) o.effectiveAt = effective;
    if (organizer !== undefined) o.orderId = readId(organizer.one("id"));
    const valueEl = obs.one("value");
    if (valueEl !== undefined) setValue(o, valueEl, warnings);
    o.interpretations = obs
      .all("interpretationCode")
      .map(readCode)
      .filter((c): c is Code => c !== undefined);
    for (const rr of obs.all("referenceRange")) {
      const range = rr.one("observationRange");
      if (range === undefined) continue;
      const ref = ReferenceRange.fromPartial({ text: range.one("text")?.text ?? "" });
      const v = range.one("value");
      const low = readQuantity(v?.one("low"));
      const high = readQuantity(v?.one("high"));
      if (low !== undefined) ref.low = low;
      if (high !== undefined) ref.high = high;
      if (ref.low !== undefined || ref.high !== undefined || ref.text !== "") o.referenceRanges.push(ref);
    }
    out.push(o);
  }
  return out;
}

function setValue(o: Observation, v: El, warnings: ConversionWarning[]): void {
  if (v.nullFlavor !== undefined) return;
  switch (v.xsiType) {
    case "PQ":
    case "REAL": {
      const q = readQuantity(v);
      if (q !== undefined) o.value = { $case: "valueQuantity", value: q };
      return;
    }
    case "IVL_PQ": {
      const q = readQuantity(v.one("low")) ?? readQuantity(v.one("high"));
      if (q !== undefined) {
        // An open interval ("<5", ">100") keeps its comparator.
        if (v.one("low") === undefined) q.comparator = "<=";
        else if (v.one("high") === undefined) q.comparator = ">=";
        o.value = { $case: "valueQuantity", value: q };
      }
      return;
    }
    case "INT": {
      const n = v.attr("value");
      if (n !== undefined && /^-?\d+$/.test(n)) o.value = { $case: "valueInteger", value: BigInt(n) };
      return;
    }
    case "BL": {
      const b = v.attr("value");
      if (b === "true" || b === "false") o.value = { $case: "valueBoolean", value: b === "true" };
      return;
    }
    case "TS": {
      const ts = readTs(v);
      if (ts !== undefined) o.value = { $case: "valueDateTime", value: toInstant(ts) };
      return;
    }
    case "CD":
    case "CE":
    case "CV":
    case "CO": {
      const c = readCode(v);
      if (c !== undefined) o.value = { $case: "valueCode", value: c };
      return;
    }
    case "ST":
    case "ED":
    case undefined: {
      const text = v.text;
      if (text !== "") o.value = { $case: "valueString", value: text };
      return;
    }
    default:
      warnings.push({
        code: "ccda.unmapped_value_type",
        location: v.attrPath("type"),
        message: "result value type not carried over",
      });
  }
}
