// `pnpm bench hl7`: HL7 v2 parsing throughput of @hix/hl7v2 against other npm HL7 libraries on
// the shared public corpus (../shared/data/hl7v2-*), in the same process and run.
//
// Two measures per library: parse alone, and parse + reading ~20 fields mappers use (MSH-3/4/7/
// 9.1/9.2/10/12, EVN-2, PID-3.1/3.4/5.1/5.2/7/8/11.3, PV1-2/3.1/19, OBR-4.1 and OBX-2/3.1/5 of every
// OBX). hix and medplum parse lazily, so "parse alone" flatters them; parse + read is the fair one.
// Options: --seconds N (per contender and measure, default 2), --warmup N (default 0.5).
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { Hl7ParseError, parse, parseBatch, serialize } from "@hix/hl7v2";

interface Contender {
  readonly name: string;
  parse: (text: string) => unknown;
  /** Parses and reads the fields; returns the total length read (keeps the work observable). */
  read: (text: string) => number;
}

const DATA = fileURLToPath(new URL("../../../shared/data/", import.meta.url));
const FIELDS = [
  ["MSH", 3, 1],
  ["MSH", 4, 1],
  ["MSH", 7, 1],
  ["MSH", 9, 1],
  ["MSH", 9, 2],
  ["MSH", 10, 1],
  ["MSH", 12, 1],
  ["EVN", 2, 1],
  ["PID", 3, 1],
  ["PID", 3, 4],
  ["PID", 5, 1],
  ["PID", 5, 2],
  ["PID", 7, 1],
  ["PID", 8, 1],
  ["PID", 11, 3],
  ["PV1", 2, 1],
  ["PV1", 3, 1],
  ["PV1", 19, 1],
  ["OBR", 4, 1],
] as const;
const OBX_FIELDS = [
  [2, 1],
  [3, 1],
  [5, 1],
] as const;

/** Every message in the shared corpus that hix accepts, each as it arrives over MLLP: CR-terminated. */
function loadCorpus(): string[] {
  const out: string[] = [];
  for (const dir of readdirSync(DATA)
    .filter((d) => d.startsWith("hl7v2-"))
    .sort()) {
    for (const file of readdirSync(DATA + dir).sort()) {
      if (file === "SOURCE.md" || file.startsWith("LICENSE") || file.endsWith(".json")) continue;
      let text = readFileSync(`${DATA}${dir}/${file}`, "utf8");
      if (file === "messages.txt") text = text.replace(/\/\*[\s\S]*?\*\/|^\/\/[^\n]*/gm, "");
      try {
        for (const m of parseBatch(text).messages) out.push(serialize(m));
      } catch (e) {
        if (!(e instanceof Hl7ParseError)) throw e; // the deliberately invalid samples
      }
    }
  }
  return out;
}

function hixContender(): Contender {
  const paths = FIELDS.map(([s, f, c]) => `${s}-${f}.${c}`);
  const obxPaths = Array.from({ length: 200 }, (_, i) =>
    OBX_FIELDS.map(([f, c]) => `OBX[${i + 1}]-${f}.${c}`),
  );
  return {
    name: "hix",
    parse: (t) => parse(t),
    read(t) {
      const m = parse(t);
      let n = 0;
      for (const p of paths) n += m.get(p)?.length ?? 0;
      const count = m.segmentsById("OBX").length;
      for (let i = 0; i < count; i++) for (const p of obxPaths[i]!) n += m.get(p)?.length ?? 0;
      return n;
    },
  };
}

async function medplumContender(): Promise<Contender> {
  // @medplum/core 5.x touches the global WebSocket at import; Node 20 has none without a flag.
  const g = globalThis as { WebSocket?: unknown };
  g.WebSocket ??= class {};
  const { Hl7Message } = await import("@medplum/core");
  return {
    name: "@medplum/core",
    parse: (t) => Hl7Message.parse(t),
    read(t) {
      const m = Hl7Message.parse(t);
      let n = 0;
      for (const [s, f, c] of FIELDS) n += m.getSegment(s)?.getField(f)?.getComponent(c)?.length ?? 0;
      for (const seg of m.getAllSegments("OBX")) {
        for (const [f, c] of OBX_FIELDS) n += seg.getField(f)?.getComponent(c)?.length ?? 0;
      }
      return n;
    },
  };
}

interface NhcNode {
  toString(): string;
  get(path: string | number): NhcNode;
  forEach(cb: (n: NhcNode) => void): void;
  exists(path: string | number): boolean;
}

async function nodeHl7ClientContender(): Promise<Contender> {
  const { Message } = (await import("node-hl7-client")) as unknown as {
    Message: new (o: { text: string }) => NhcNode;
  };
  return {
    name: "node-hl7-client",
    parse: (t) => new Message({ text: t }),
    read(t) {
      const m = new Message({ text: t });
      let n = 0;
      for (const [s, f, c] of FIELDS) if (m.exists(s)) n += m.get(`${s}.${f}.${c}`).toString().length;
      if (m.exists("OBX")) {
        m.get("OBX").forEach((seg) => {
          for (const [f, c] of OBX_FIELDS) n += seg.get(`OBX.${f}.${c}`).toString().length;
        });
      }
      return n;
    },
  };
}

interface HsMessage {
  transform(): void;
  get(field: string): unknown;
  getSegments(id: string): { get(field: string): unknown }[];
}

function hl7StandardContender(): Contender {
  const HL7 = createRequire(import.meta.url)("hl7-standard") as new (t: string) => HsMessage;
  const len = (v: unknown): number => (typeof v === "string" ? v.length : 0);
  return {
    name: "hl7-standard",
    parse(t) {
      const m = new HL7(t);
      m.transform();
      return m;
    },
    read(t) {
      const m = new HL7(t);
      m.transform();
      let n = 0;
      for (const [s, f, c] of FIELDS) n += len(m.get(`${s}.${f}.${c}`));
      for (const seg of m.getSegments("OBX"))
        for (const [f, c] of OBX_FIELDS) n += len(seg.get(`OBX.${f}.${c}`));
      return n;
    },
  };
}

function option(args: readonly string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  const v = i < 0 ? NaN : Number(args[i + 1]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

/** Runs `fn` over the corpus for `seconds`; returns messages per second. */
function measure(corpus: readonly string[], fn: (t: string) => unknown, seconds: number): number {
  let sink = 0;
  let passes = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    for (const t of corpus) sink += fn(t) === undefined ? 0 : 1;
    passes++;
    elapsed = (performance.now() - start) / 1000;
  } while (elapsed < seconds);
  if (sink < 0) console.error(sink); // never true; keeps results alive
  return (passes * corpus.length) / elapsed;
}

export async function run(args: readonly string[]): Promise<Record<string, unknown>> {
  const seconds = option(args, "--seconds", 2);
  const warmup = option(args, "--warmup", 0.5);
  const contenders = [
    hixContender(),
    await medplumContender(),
    await nodeHl7ClientContender(),
    hl7StandardContender(),
  ];
  const all = loadCorpus();
  // Compare on the messages every library can read, so nobody is timed on a shorter path (a throw).
  const corpus = all.filter((t) =>
    contenders.every((c) => {
      try {
        c.read(t);
        return true;
      } catch {
        return false;
      }
    }),
  );
  const bytes = corpus.reduce((n, t) => n + Buffer.byteLength(t, "utf8"), 0);
  const perMessageBytes = bytes / corpus.length;
  const results: Record<string, Record<string, number>> = {};
  for (const mode of ["parse", "parseAndRead"] as const) {
    for (const c of contenders) {
      const fn = mode === "parse" ? c.parse : c.read;
      console.error(`hl7 bench: ${c.name} ${mode}…`);
      measure(corpus, fn, warmup);
      const mps = measure(corpus, fn, seconds);
      const r = (results[c.name] ??= {});
      r[`${mode}MessagesPerSec`] = Math.round(mps);
      r[`${mode}MBPerSec`] = Math.round(((mps * perMessageBytes) / 1e6) * 10) / 10;
    }
  }
  const ratio = (key: string): { fastestOther: string; ratio: number } => {
    const others = contenders.slice(1).map((c) => ({ name: c.name, v: results[c.name]![key]! }));
    const best = others.reduce((a, b) => (b.v > a.v ? b : a));
    return { fastestOther: best.name, ratio: Math.round((results.hix![key]! / best.v) * 100) / 100 };
  };
  return {
    corpus: {
      messages: corpus.length,
      excludedBecauseSomeLibraryThrew: all.length - corpus.length,
      bytes,
      fieldsReadPerMessage: `${FIELDS.length} + ${OBX_FIELDS.length} per OBX`,
    },
    secondsPerMeasure: seconds,
    results,
    hixVsFastestOther: {
      parse: ratio("parseMessagesPerSec"),
      parseAndRead: ratio("parseAndReadMessagesPerSec"),
    },
  };
}
