import type { Delimiters } from "./delimiters.js";
import { DEFAULT_DELIMITERS, encodingCharacters } from "./delimiters.js";
import { escapeValue } from "./escape.js";
import { Hl7Message } from "./message.js";
import { parse } from "./parse.js";
import { Hl7Segment } from "./segment.js";

/** MSA-1 acknowledgment code (HL7 table 0008, original mode): accept, error, reject. */
export type AckCode = "AA" | "AE" | "AR";

/** ERR-4 severity (HL7 table 0516): error, warning, information. */
export type AckSeverity = "E" | "W" | "I";

/** One problem to report in an ERR segment. */
export interface AckError {
  /** Segment id where the problem is, e.g. `PID`. */
  readonly segment: string;
  /** Which occurrence of that segment (1-based); defaults to 1. */
  readonly sequence?: number;
  /** Field number. */
  readonly field?: number;
  /** Field repetition (1-based). */
  readonly repetition?: number;
  /** Component number. */
  readonly component?: number;
  /** HL7 table 0357 message error condition code, e.g. 101 (required field missing). */
  readonly code: number;
  readonly severity: AckSeverity;
  /** Human-readable text for the other party. Callers must keep PHI out of it. */
  readonly message: string;
}

export interface AckOptions {
  readonly code: AckCode;
  /** MSA-3 text message (deprecated since v2.4 but still read by many receivers). */
  readonly text?: string;
  readonly errors?: readonly AckError[];
  /** MSH-10 of the ACK; a random 20-character id when omitted. */
  readonly controlId?: string;
  /** MSH-7 of the ACK; now when omitted. */
  readonly timestamp?: Date;
  /** Our own application/facility. Used when the original cannot be parsed, or to override MSH-3/MSH-4. */
  readonly sendingApplication?: string;
  readonly sendingFacility?: string;
  /** Version for an ACK to an unparseable message (default `2.5`). */
  readonly version?: string;
}

/** HL7 table 0357 descriptions, for ERR-3.2 / ERR-1.4.2. */
const TABLE_0357: Readonly<Record<number, string>> = {
  0: "Message accepted",
  100: "Segment sequence error",
  101: "Required field missing",
  102: "Data type error",
  103: "Table value not found",
  104: "Value too long",
  200: "Unsupported message type",
  201: "Unsupported event code",
  202: "Unsupported processing id",
  203: "Unsupported version id",
  204: "Unknown key identifier",
  205: "Duplicate key identifier",
  206: "Application record locked",
  207: "Application internal error",
};

/**
 * Builds the original-mode acknowledgment (HL7 v2.5 §2.9.2) for a message.
 *
 * MSH: sender and receiver swapped (MSH-3/4 ⇄ MSH-5/6), same delimiters, processing id and
 * version, MSH-9 `ACK^<trigger>^ACK`. MSA: code and the original MSH-10. One ERR per error:
 * v2.5+ uses ERR-2 (location `SEG^seq^field^rep^comp`), ERR-3 (table 0357 code), ERR-4
 * (severity) and ERR-8 (user message); older versions use ERR-1 (`SEG^seq^field^code&text&HL70357`).
 *
 * `original` may be text that does not parse (no MSH, broken delimiters) or `null`: the ACK
 * then uses default delimiters, `options.version`, our own sender names and an empty MSA-2.
 */
export function buildAck(original: Hl7Message | string | null, options: AckOptions): Hl7Message {
  let orig: Hl7Message | undefined;
  if (typeof original === "string") {
    try {
      orig = parse(original);
    } catch {
      orig = undefined;
    }
  } else if (original !== null) orig = original;

  const d: Delimiters = orig?.delimiters ?? DEFAULT_DELIMITERS;
  const esc = (s: string): string => escapeValue(s, d);
  const version = orig?.version || options.version || "2.5";
  const trigger = orig?.get("MSH-9.2") ?? "";
  const raw = (path: string): string => orig?.getRaw(path) ?? "";
  const msh = [
    "MSH",
    encodingCharacters(d),
    options.sendingApplication !== undefined ? esc(options.sendingApplication) : raw("MSH-5"),
    options.sendingFacility !== undefined ? esc(options.sendingFacility) : raw("MSH-6"),
    raw("MSH-3"),
    raw("MSH-4"),
    formatTimestamp(options.timestamp ?? new Date()),
    "",
    atLeast(version, "2.3.1")
      ? ["ACK", esc(trigger), "ACK"].join(d.component)
      : ["ACK", esc(trigger)].join(d.component),
    esc(options.controlId ?? randomControlId()),
    raw("MSH-11") || "P",
    esc(version),
  ];
  const lines = [msh.join(d.field)];
  const msa = ["MSA", options.code, esc(orig?.controlId ?? "")];
  if (options.text !== undefined) msa.push(esc(options.text));
  lines.push(trimEnd(msa).join(d.field));
  const modern = atLeast(version, "2.5");
  for (const e of options.errors ?? []) lines.push(modern ? errV25(e, d) : errLegacy(e, d));

  const segments = lines.map(
    (text, i) => new Hl7Segment(text.slice(0, 3), text, d, i < lines.length - 1 ? "\r" : ""),
  );
  return new Hl7Message(d, segments);
}

function errV25(e: AckError, d: Delimiters): string {
  const c = d.component;
  const location = trimEnd([
    e.segment,
    String(e.sequence ?? 1),
    num(e.field),
    num(e.repetition),
    num(e.component),
  ]).join(c);
  const code = [String(e.code), escapeValue(TABLE_0357[e.code] ?? "", d), "HL70357"].join(c);
  // ERR-1 empty, ERR-2 location, ERR-3 code, ERR-4 severity, ERR-5..7 empty, ERR-8 user message.
  return ["ERR", "", location, code, e.severity, "", "", "", escapeValue(e.message, d)].join(d.field);
}

function errLegacy(e: AckError, d: Delimiters): string {
  // ERR-1 (ELD, v2.1–2.4): segment id ^ sequence ^ field ^ code (CE, as subcomponents).
  const sub = d.subcomponent === "" ? d.component : d.subcomponent;
  const code = [String(e.code), escapeValue(e.message || TABLE_0357[e.code] || "", d), "HL70357"].join(sub);
  return ["ERR", [e.segment, String(e.sequence ?? 1), num(e.field), code].join(d.component)].join(d.field);
}

function num(n: number | undefined): string {
  return n === undefined ? "" : String(n);
}

function trimEnd(parts: string[]): string[] {
  let n = parts.length;
  while (n > 1 && parts[n - 1] === "") n--;
  return parts.slice(0, n);
}

/** True when version `v` (e.g. `2.3.1`) is at least `min`; unknown text counts as modern. */
function atLeast(v: string, min: string): boolean {
  const a = v.split(".").map(Number);
  const b = min.split(".").map(Number);
  if (a.some((x) => Number.isNaN(x))) return true;
  for (let i = 0; i < b.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i]!;
    if (x !== y) return x > y;
  }
  return true;
}

/** HL7 DTM `YYYYMMDDHHMMSS+ZZZZ` in UTC. */
function formatTimestamp(t: Date): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, "0");
  return (
    p(t.getUTCFullYear(), 4) +
    p(t.getUTCMonth() + 1) +
    p(t.getUTCDate()) +
    p(t.getUTCHours()) +
    p(t.getUTCMinutes()) +
    p(t.getUTCSeconds()) +
    "+0000"
  );
}

/** 20 characters fit MSH-10 in every version (ST, max length 20 up to v2.6). */
function randomControlId(): string {
  const bytes = new Uint8Array(10);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
