/**
 * Subjects, stream names and the message type each subject carries — defined once.
 * Every service, test and tool takes a `Topology`; production uses `defaultTopology`,
 * tests make their own with a unique prefix so runs never share streams or subjects.
 *
 *   hix.in.<facility>.<kind>    what a facility submits          (stream HIX_IN)
 *   hix.out.<facility>.<kind>   what the router delivered to it  (stream HIX_OUT)
 *   hix.dlq.<stream>.<consumer> what a consumer could not process (stream HIX_DLQ)
 *   hix.rpc.<service>.<verb>    request/reply (core NATS, not stored)
 */

/** Body kinds of an Envelope as they appear in subjects (the oneof field names of hix.v1.Envelope). */
export const MESSAGE_KINDS = [
  "record_request",
  "record_transfer",
  "referral_packet",
  "patient_announcement",
  "receipt",
  "identity_alert",
] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

/** What a subject carries, for tools that decode traffic (`hix tail`). */
export interface SubjectEntry {
  /** A NATS subject pattern relative to the topology prefix. */
  readonly pattern: string;
  /** Fully-qualified protobuf type of the payload. */
  readonly type: string;
  readonly description: string;
}

export const SUBJECT_CATALOG: readonly SubjectEntry[] = [
  { pattern: "hix.in.*.*", type: "hix.v1.Envelope", description: "submitted by a facility adapter" },
  { pattern: "hix.out.*.*", type: "hix.v1.Envelope", description: "delivered by the router to a facility" },
  { pattern: "hix.dlq.*.*", type: "bytes", description: "original payload; reason in Hix-Dlq-* headers" },
  {
    pattern: "hix.rpc.locate",
    type: "hix.v1.LocateRequest",
    description: "record locator request (reply: LocateResponse)",
  },
];

export interface StreamSpec {
  readonly name: string;
  readonly subjects: readonly string[];
  readonly description: string;
}

export interface Topology {
  /** Empty in production; a unique lowercase token in tests. */
  readonly prefix: string;
  readonly streams: { readonly in: StreamSpec; readonly out: StreamSpec; readonly dlq: StreamSpec };
  inSubject(facility: string, kind: MessageKind | "*" | ">"): string;
  outSubject(facility: string, kind: MessageKind | "*" | ">"): string;
  dlqSubject(stream: string, consumer: string): string;
  rpcSubject(service: string, verb: string): string;
  /** Parses `…hix.<in|out>.<facility>.<kind>`; undefined when the subject is not one of ours. */
  parse(subject: string): { direction: "in" | "out"; facility: string; kind: string } | undefined;
}

const TOKEN = /^[A-Za-z0-9_-]+$/;

/** Throws when `value` cannot be one subject token (facility ids, kinds, consumer names). */
export function assertToken(value: string, what: string): string {
  if (!TOKEN.test(value)) {
    throw new TypeError(
      `${what} must match ${TOKEN.source} to be used in a subject, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

export function createTopology(prefix = ""): Topology {
  if (prefix !== "") assertToken(prefix, "topology prefix");
  const root = prefix === "" ? "hix" : `${prefix}.hix`;
  const streamName = (base: string): string => (prefix === "" ? base : `${prefix.toUpperCase()}_${base}`);
  const wildcard = (t: string, what: string): string => (t === "*" || t === ">" ? t : assertToken(t, what));
  const depth = root.split(".").length;
  return {
    prefix,
    streams: {
      in: { name: streamName("HIX_IN"), subjects: [`${root}.in.>`], description: "submitted by facilities" },
      out: {
        name: streamName("HIX_OUT"),
        subjects: [`${root}.out.>`],
        description: "delivered to facilities",
      },
      dlq: {
        name: streamName("HIX_DLQ"),
        subjects: [`${root}.dlq.>`],
        description: "could not be processed",
      },
    },
    inSubject: (facility, kind) =>
      `${root}.in.${wildcard(facility, "facility id")}.${wildcard(kind, "kind")}`,
    outSubject: (facility, kind) =>
      `${root}.out.${wildcard(facility, "facility id")}.${wildcard(kind, "kind")}`,
    dlqSubject: (stream, consumer) =>
      `${root}.dlq.${assertToken(stream, "stream name")}.${assertToken(consumer, "consumer name")}`,
    rpcSubject: (service, verb) =>
      `${root}.rpc.${assertToken(service, "service")}.${assertToken(verb, "verb")}`,
    parse(subject) {
      const tokens = subject.split(".");
      if (tokens.length !== depth + 3 || tokens.slice(0, depth).join(".") !== root) return undefined;
      const [direction, facility, kind] = tokens.slice(depth) as [string, string, string];
      if (direction !== "in" && direction !== "out") return undefined;
      return { direction, facility, kind };
    },
  };
}

export const defaultTopology: Topology = createTopology();
