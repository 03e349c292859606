import {
  type Code,
  type ConversionWarning,
  type Observation,
  ObservationStatus,
  type Quantity,
  type ReferenceRange,
} from "@hix/proto";
import {
  readCode,
  readPractitioner,
  systemMnemonic,
  systemUri,
  v2Table,
  writeCode,
  writePractitioner,
} from "./datatypes.js";
import { type Composite, composites, first, instant, loc, reps, type Seg, text, value } from "./read.js";
import { comp, dtm, esc, Fields, rep } from "./write.js";

/** Local code maps: CWE-3 coding system as received → local code → the code to use instead. */
export type CodeMaps = Record<string, Record<string, { system: string; code: string; display: string }>>;

export interface ResultContext {
  readonly codeMaps: CodeMaps;
  readonly warnings: ConversionWarning[];
}

/** HL7 v2 table 0085 observation result status. */
const STATUS: Record<string, ObservationStatus> = {
  F: ObservationStatus.FINAL,
  U: ObservationStatus.FINAL,
  C: ObservationStatus.CORRECTED,
  P: ObservationStatus.PRELIMINARY,
  R: ObservationStatus.PRELIMINARY,
  S: ObservationStatus.PRELIMINARY,
  A: ObservationStatus.PRELIMINARY,
  I: ObservationStatus.REGISTERED,
  O: ObservationStatus.REGISTERED,
  X: ObservationStatus.CANCELLED,
  N: ObservationStatus.CANCELLED,
  W: ObservationStatus.ENTERED_IN_ERROR,
  D: ObservationStatus.ENTERED_IN_ERROR,
};
const STATUS_CODES: Partial<Record<ObservationStatus, string>> = {
  [ObservationStatus.FINAL]: "F",
  [ObservationStatus.CORRECTED]: "C",
  [ObservationStatus.AMENDED]: "C",
  [ObservationStatus.PRELIMINARY]: "P",
  [ObservationStatus.REGISTERED]: "I",
  [ObservationStatus.CANCELLED]: "X",
  [ObservationStatus.ENTERED_IN_ERROR]: "W",
};

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

/** A coded value, replaced through the facility's code map when it has an entry (e.g. local lab code → LOINC). */
function mappedCode(c: Composite, ctx: ResultContext): Code | undefined {
  const code = readCode(c);
  if (code === undefined) return undefined;
  const map = ctx.codeMaps[c.c(3)] ?? ctx.codeMaps[code.system];
  const hit = map?.[code.code];
  return hit === undefined ? code : { ...hit, version: "" };
}

/** OBX-6 units (CWE: code ^ text ^ system) → unit fields of a Quantity. */
function units(obx: Seg): Omit<Quantity, "value" | "comparator"> {
  const u = first(obx, 6);
  const system = u.c(3);
  return {
    code: u.c(1),
    unit: u.c(2) !== "" ? u.c(2) : u.c(1),
    system: system === "" ? "" : systemUri(system),
  };
}

function writeUnits(q: Quantity): string {
  if (q.code === "" && q.unit === "") return "";
  return comp(
    esc(q.code !== "" ? q.code : q.unit),
    q.unit !== q.code ? esc(q.unit) : "",
    esc(systemMnemonic(q.system)),
  );
}

/**
 * OBX-7 reference range: "low-high", "<high", ">low" become numeric bounds (in the OBX-6 unit);
 * anything else ("negative", "70_105") is kept as text.
 */
function referenceRange(obx: Seg): ReferenceRange[] {
  const raw = text(obx.segment.field(7), obx.segment.delimiters);
  if (raw === "") return [];
  const u = units(obx);
  const q = (v: string): Quantity => ({ ...u, value: Number(v), comparator: "" });
  const num = String.raw`([+-]?\d+(?:\.\d+)?)`;
  const range = new RegExp(`^${num}\\s*-\\s*${num}$`).exec(raw);
  if (range !== null) return [{ low: q(range[1]!), high: q(range[2]!), text: "", appliesTo: [] }];
  const below = new RegExp(`^<=?\\s*${num}$`).exec(raw);
  if (below !== null) return [{ high: q(below[1]!), text: "", appliesTo: [] }];
  const above = new RegExp(`^>=?\\s*${num}$`).exec(raw);
  if (above !== null) return [{ low: q(above[1]!), text: "", appliesTo: [] }];
  return [{ text: raw, appliesTo: [] }];
}

/** OBX-6 for an observation whose value has no unit (coded, text) but whose range has one. */
function rangeUnits(ranges: readonly ReferenceRange[]): string {
  const q = ranges[0]?.low ?? ranges[0]?.high;
  return q === undefined ? "" : writeUnits(q);
}

function writeReferenceRange(ranges: readonly ReferenceRange[]): string {
  const r = ranges[0];
  if (r === undefined) return "";
  if (r.low !== undefined && r.high !== undefined) return esc(`${r.low.value}-${r.high.value}`);
  if (r.high !== undefined) return esc(`<${r.high.value}`);
  if (r.low !== undefined) return esc(`>${r.low.value}`);
  return esc(r.text);
}

/** Text of OBX-5: each repetition a line (TX/FT repeat for lines), FT breaks `\.br\` decoded to newlines. */
function textValue(obx: Seg): string {
  const d = obx.segment.delimiters;
  return reps(obx, 5)
    .map((r) => text(r, d))
    .join("\n");
}

/** OBX-2 value type + OBX-5 → the Observation.value case; undefined when OBX-5 is empty. */
function readValue(obx: Seg, ctx: ResultContext): Observation["value"] {
  const type = value(obx, 2).toUpperCase();
  if (obx.segment.field(5) === "") return undefined;
  const at = loc(obx, 5);
  switch (type) {
    case "NM": {
      const v = value(obx, 5);
      if (NUMBER.test(v))
        return { $case: "valueQuantity", value: { ...units(obx), value: Number(v), comparator: "" } };
      ctx.warnings.push({
        code: "hl7.bad_numeric",
        location: at,
        message: "NM value is not a number; kept as text",
      });
      return { $case: "valueString", value: v };
    }
    case "SN": {
      // SN: comparator ^ num1 ^ separator/suffix ^ num2 (§2.A.72). A single number (with an
      // optional comparator) is a quantity; ratios and ranges are kept as text.
      const sn = first(obx, 5);
      const comparator = sn.c(1) === "=" ? "" : sn.c(1);
      if (sn.c(3) === "" && sn.c(4) === "" && NUMBER.test(sn.c(2))) {
        return { $case: "valueQuantity", value: { ...units(obx), value: Number(sn.c(2)), comparator } };
      }
      return { $case: "valueString", value: `${sn.c(1)}${sn.c(2)}${sn.c(3)}${sn.c(4)}` };
    }
    case "CE":
    case "CWE":
    case "CNE":
    case "CF": {
      const code = mappedCode(first(obx, 5), ctx);
      return code === undefined ? undefined : { $case: "valueCode", value: code };
    }
    case "ST":
    case "TX":
    case "FT":
    case "ID":
    case "IS":
    case "TM":
    case "":
      return { $case: "valueString", value: textValue(obx) };
    case "DT":
    case "DTM":
    case "TS": {
      const d = instant(value(obx, 5), at);
      return d === undefined ? undefined : { $case: "valueDateTime", value: d };
    }
    default:
      ctx.warnings.push({
        code: "hl7.unmapped_value_type",
        location: loc(obx, 2),
        message: `OBX value type ${type.slice(0, 8)} has no canonical value; value left out`,
      });
      return undefined;
  }
}

function notesOf(nte: Seg): string {
  const d = nte.segment.delimiters;
  return reps(nte, 3)
    .map((r) => text(r, d))
    .join("\n");
}

/**
 * The OBR/OBX/NTE segments of a message → observations (HL7 v2.5.1 §7.4.1 OBR, §7.4.2 OBX).
 * Each OBR becomes a panel observation — id the order id (OBR-3 filler number, else OBR-2
 * placer number), code OBR-4, no value — and each OBX under it an observation whose order_id
 * is that id. NTE segments become notes of the OBR or OBX they follow.
 */
export function readResults(segs: readonly Seg[], ctx: ResultContext): Observation[] {
  const out: Observation[] = [];
  let panel: Observation | undefined;
  let last: Observation | undefined;
  let obrCount = 0;
  for (const s of segs) {
    const id = s.segment.id;
    if (id === "OBR") {
      // An OBR without placer or filler number still groups its OBX: it is named by its set id.
      obrCount++;
      const orderId =
        value(s, 3) !== ""
          ? value(s, 3)
          : value(s, 2) !== ""
            ? value(s, 2)
            : `obr-${value(s, 1) || obrCount}`;
      panel = {
        id: orderId,
        status: STATUS[value(s, 25).toUpperCase()] ?? ObservationStatus.UNSPECIFIED,
        categories: [],
        referenceRanges: [],
        interpretations: [],
        performers: [],
        notes: [],
        encounterId: "",
        orderId,
      };
      const code = mappedCode(first(s, 4), ctx);
      if (code !== undefined) panel.code = code;
      const effective = instant(value(s, 7), loc(s, 7));
      if (effective !== undefined) panel.effectiveAt = effective;
      const issued = instant(value(s, 22), loc(s, 22));
      if (issued !== undefined) panel.issuedAt = issued;
      out.push(panel);
      last = panel;
    } else if (id === "OBX") {
      const orderId = panel?.orderId ?? "";
      const subId = value(s, 4) !== "" ? value(s, 4) : value(s, 1);
      const obs: Observation = {
        id: orderId === "" ? subId : `${orderId}-${subId}`,
        status: STATUS[value(s, 11).toUpperCase()] ?? ObservationStatus.UNSPECIFIED,
        categories: [],
        referenceRanges: referenceRange(s),
        interpretations: composites(s, 8).flatMap((c) => readCode(c, v2Table("0078")) ?? []),
        performers: composites(s, 16).flatMap((c) => readPractitioner(c) ?? []),
        notes: [],
        encounterId: "",
        orderId,
      };
      const code = mappedCode(first(s, 3), ctx);
      if (code !== undefined) obs.code = code;
      const v = readValue(s, ctx);
      if (v !== undefined) obs.value = v;
      // OBX-14 is the time of the observation; the OBR-7 collection time stands in when absent.
      const effective = instant(value(s, 14), loc(s, 14)) ?? panel?.effectiveAt;
      if (effective !== undefined) obs.effectiveAt = effective;
      if (panel?.issuedAt !== undefined) obs.issuedAt = panel.issuedAt;
      const method = readCode(first(s, 17));
      if (method !== undefined) obs.method = method;
      out.push(obs);
      last = obs;
    } else if (id === "NTE") {
      if (last !== undefined) {
        const note = notesOf(s);
        if (note !== "") last.notes.push(note);
      }
    } else if (id !== "PRT") {
      // NTE belongs to the OBR/OBX it follows (a participation segment may sit between them).
      last = undefined;
    }
  }
  return out;
}

function writeValue(o: Observation): { type: string; encoded: string; units: string } {
  const v = o.value;
  if (v === undefined) return { type: "", encoded: "", units: "" };
  switch (v.$case) {
    case "valueQuantity":
      return v.value.comparator === ""
        ? { type: "NM", encoded: esc(String(v.value.value)), units: writeUnits(v.value) }
        : {
            type: "SN",
            encoded: comp(esc(v.value.comparator), esc(String(v.value.value))),
            units: writeUnits(v.value),
          };
    case "valueCode":
      return { type: "CWE", encoded: writeCode(v.value), units: "" };
    case "valueString":
      return { type: v.value.includes("\n") ? "FT" : "ST", encoded: esc(v.value), units: "" };
    case "valueBoolean":
      return { type: "ST", encoded: v.value ? "true" : "false", units: "" };
    case "valueInteger":
      return { type: "NM", encoded: String(v.value), units: "" };
    case "valueDateTime":
      return { type: "DTM", encoded: dtm(v.value), units: "" };
  }
}

function noteSegments(notes: readonly string[]): string[] {
  return notes.map((n, i) =>
    new Fields()
      .set(1, String(i + 1))
      .set(3, esc(n))
      .toSegment("NTE"),
  );
}

/**
 * Observations → OBR/OBX/NTE segments: a value-less observation whose id is its own order id is
 * written as the OBR; the others as OBX under the OBR of their order_id (an OBR with only the
 * order id is made when the panel observation is missing).
 */
export function writeResults(observations: readonly Observation[]): string[] {
  const out: string[] = [];
  const orders: string[] = [];
  const byOrder = new Map<string, { panel: Observation | undefined; members: Observation[] }>();
  for (const o of observations) {
    const isPanel = o.value === undefined && o.id === o.orderId && o.orderId !== "";
    let group = byOrder.get(o.orderId);
    if (group === undefined) {
      group = { panel: undefined, members: [] };
      byOrder.set(o.orderId, group);
      orders.push(o.orderId);
    }
    if (isPanel && group.panel === undefined) group.panel = o;
    else group.members.push(o);
  }
  let obr = 0;
  // Observations with no order (OBX before any OBR) come first, with no OBR above them.
  orders.sort((a, b) => (a === "" ? -1 : b === "" ? 1 : 0));
  for (const orderId of orders) {
    const { panel, members } = byOrder.get(orderId)!;
    if (orderId !== "" || panel !== undefined)
      out.push(
        new Fields()
          .set(1, String(++obr))
          .set(3, esc(orderId))
          .set(4, writeCode(panel?.code))
          .set(7, dtm(panel?.effectiveAt))
          .set(22, dtm(panel?.issuedAt ?? members[0]?.issuedAt))
          .set(25, STATUS_CODES[panel?.status ?? ObservationStatus.UNSPECIFIED] ?? "")
          .toSegment("OBR"),
      );
    out.push(...noteSegments(panel?.notes ?? []));
    const prefix = orderId === "" ? "" : `${orderId}-`;
    members.forEach((o, i) => {
      const v = writeValue(o);
      // The reader names an OBX by OBX-4 sub-id, else OBX-1 set id: write the suffix where it reads back.
      const suffix = o.id.startsWith(prefix) ? o.id.slice(prefix.length) : o.id;
      const numeric = /^\d+$/.test(suffix);
      out.push(
        new Fields()
          .set(1, numeric ? suffix : suffix === "" ? "" : String(i + 1))
          .set(2, v.type)
          .set(3, writeCode(o.code))
          .set(4, numeric ? "" : esc(suffix))
          .set(5, v.encoded)
          .set(6, v.units !== "" ? v.units : rangeUnits(o.referenceRanges))
          .set(7, writeReferenceRange(o.referenceRanges))
          .set(8, rep(o.interpretations.map(writeCode)))
          .set(11, STATUS_CODES[o.status] ?? "")
          .set(14, dtm(o.effectiveAt))
          .set(16, rep(o.performers.map(writePractitioner)))
          .set(17, writeCode(o.method))
          .toSegment("OBX"),
      );
      out.push(...noteSegments(o.notes));
    });
  }
  return out;
}
