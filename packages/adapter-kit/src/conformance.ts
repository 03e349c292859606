/**
 * The conformance suite `hix adapter test <dir>` runs over an adapter folder:
 *
 *   <dir>/profile.json          the facility profile (validated; hooks loaded if named)
 *   <dir>/fixtures/*            real (de-identified) samples the facility sends: .hl7, .json, .xml, .csv
 *   <dir>/fixtures/malformed/*  inputs that must be refused cleanly
 *
 * Checks, each reported on its own:
 *   convert     every fixture converts with the facility's profile, code maps and hooks
 *   round-trip  canonical → FHIR R4 Bundle → canonical keeps every body and patient id;
 *               HL7 v2 fixtures also render back to HL7 v2 that parses and converts again
 *   malformed   every malformed input is refused with a code and a location, never a crash
 *   ack         over real MLLP (loopback), every HL7 v2 fixture gets one AA naming its MSH-10,
 *               every malformed one an AE/AR with an ERR segment
 *   duplicate   sending a fixture again is acknowledged and stores nothing new
 *
 * The suite runs offline: its HIX_IN is an in-memory stand-in with JetStream's dedupe rule
 * (a repeated envelope id is not stored twice). The real bus is tested in services/adapter.
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, serialize } from "@hix/hl7v2";
import type { Envelope, EnvelopeBody } from "@hix/proto";
import { convertInbound, formatFromFileName, renderOutbound } from "./codecs.js";
import { loadHooks, type Hooks } from "./hooks.js";
import { ackCode, createDocumentIntake, createHl7Intake, type Submit } from "./intake.js";
import { connectMllp, startMllpServer } from "./mllp.js";
import { loadProfile, type LoadedProfile } from "./profile.js";

export interface CheckResult {
  readonly check: "profile" | "convert" | "round-trip" | "malformed" | "ack" | "duplicate";
  readonly subject: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface ConformanceReport {
  readonly results: CheckResult[];
  readonly ok: boolean;
}

/** HIX_IN stand-in: stores each envelope id once, like JetStream's Nats-Msg-Id dedupe. */
function memoryHixIn(): { submit: Submit; stored: Map<string, Envelope> } {
  const stored = new Map<string, Envelope>();
  return {
    stored,
    submit: (envelope) => {
      const duplicate = stored.has(envelope.id);
      if (!duplicate) stored.set(envelope.id, envelope);
      return Promise.resolve({ duplicate });
    },
  };
}

function describeError(err: unknown): { clean: boolean; text: string } {
  const e = err as { name?: string; code?: unknown; location?: unknown; message?: string };
  const clean = typeof e.code === "string" && typeof e.message === "string" && e.message.length > 0;
  return { clean, text: clean ? `${String(e.code)}: ${e.message ?? ""}` : `unexpected ${e.name ?? "error"}` };
}

function patientIds(bodies: readonly EnvelopeBody[]): string[] {
  return bodies
    .map((b) =>
      b.$case === "patientAnnouncement" || b.$case === "recordTransfer" || b.$case === "referralPacket"
        ? (b.value.patient?.localPatientId ?? "")
        : "",
    )
    .filter((id) => id !== "")
    .sort();
}

async function listFiles(dir: string): Promise<string[]> {
  try {
    return (
      (await readdir(dir, { withFileTypes: true }))
        // Provenance travels with the samples (SOURCE*.md, LICENSE*); they are not fixtures.
        .filter(
          (e) =>
            e.isFile() && !e.name.startsWith(".") && !e.name.endsWith(".md") && !e.name.startsWith("LICENSE"),
        )
        .map((e) => e.name)
        .sort()
    );
  } catch {
    return [];
  }
}

export async function runConformance(dir: string): Promise<ConformanceReport> {
  const results: CheckResult[] = [];
  const add = (r: CheckResult): void => void results.push(r);

  let loaded: LoadedProfile;
  let hooks: Hooks | undefined;
  try {
    loaded = await loadProfile(join(dir, "profile.json"));
    if (loaded.profile.hooks !== undefined) hooks = await loadHooks(loaded.path(loaded.profile.hooks));
    add({ check: "profile", subject: "profile.json", ok: true, detail: `facility ${loaded.profile.id}` });
  } catch (err) {
    add({ check: "profile", subject: "profile.json", ok: false, detail: describeError(err).text });
    return { results, ok: false };
  }
  const profile = loaded.profile;
  const ctx = { profile, ...(hooks === undefined ? {} : { hooks }) };
  const fixturesDir = join(dir, "fixtures");
  const malformedDir = join(fixturesDir, "malformed");
  const fixtures = await listFiles(fixturesDir);
  const malformed = await listFiles(malformedDir);
  if (fixtures.length === 0)
    add({
      check: "convert",
      subject: "fixtures/",
      ok: false,
      detail: "no fixtures: add samples the facility sends",
    });

  const hl7Fixtures: { name: string; text: string }[] = [];
  const documents: { name: string; format: "fhir" | "ccda" | "csv" | "hl7v2"; text: string }[] = [];
  for (const name of fixtures) {
    const format = formatFromFileName(name) ?? profile.inbound.inbox?.format;
    const text = await readFile(join(fixturesDir, name), "utf8");
    if (format === undefined) {
      add({
        check: "convert",
        subject: name,
        ok: false,
        detail: "unknown format (use .hl7, .json, .xml or .csv)",
      });
      continue;
    }
    let bodies: EnvelopeBody[];
    try {
      const conversion = convertInbound(format, text, ctx);
      bodies = conversion.bodies;
      add({
        check: "convert",
        subject: name,
        ok: bodies.length > 0,
        detail:
          bodies.length > 0
            ? `${bodies.length} message(s), ${conversion.warnings.length} warning(s)`
            : "converted to nothing",
      });
    } catch (err) {
      add({ check: "convert", subject: name, ok: false, detail: describeError(err).text });
      continue;
    }
    if (format === "hl7v2") hl7Fixtures.push({ name, text });
    else documents.push({ name, format, text });

    // Round trip through FHIR: nothing may be lost on the way to another facility.
    try {
      const bundle = renderOutbound("fhir", bodies, ctx)[0]!.text;
      const again = convertInbound("fhir", bundle, { profile });
      const before = patientIds(bodies);
      const after = patientIds(again.bodies);
      const same = JSON.stringify([...new Set(before)]) === JSON.stringify([...new Set(after)]);
      add({
        check: "round-trip",
        subject: `${name} → FHIR → canonical`,
        ok: same,
        detail: same
          ? `patients ${[...new Set(before)].length}`
          : `patient ids differ (${before.length} before, ${after.length} after)`,
      });
    } catch (err) {
      add({ check: "round-trip", subject: `${name} → FHIR`, ok: false, detail: describeError(err).text });
    }
    if (format === "hl7v2") {
      try {
        const messages = renderOutbound("hl7v2", bodies, ctx);
        for (const m of messages) convertInbound("hl7v2", serialize(parse(m.text)), { profile });
        add({
          check: "round-trip",
          subject: `${name} → HL7 v2`,
          ok: true,
          detail: `${messages.length} message(s)`,
        });
      } catch (err) {
        add({ check: "round-trip", subject: `${name} → HL7 v2`, ok: false, detail: describeError(err).text });
      }
    }
  }

  for (const name of malformed) {
    const format = formatFromFileName(name) ?? profile.inbound.inbox?.format ?? "hl7v2";
    const text = await readFile(join(malformedDir, name), "utf8");
    try {
      convertInbound(format, format === "hl7v2" ? text : text, ctx);
      if (format === "hl7v2") parse(text);
      add({
        check: "malformed",
        subject: `malformed/${name}`,
        ok: false,
        detail: "was accepted; a malformed fixture must be refused",
      });
    } catch (err) {
      const d = describeError(err);
      add({ check: "malformed", subject: `malformed/${name}`, ok: d.clean, detail: d.text });
    }
  }

  // ACKs and duplicates over a real MLLP connection on loopback.
  const tmp = await mkdtemp(join(tmpdir(), "hix-conformance-"));
  const hixIn = memoryHixIn();
  const hl7Intake = createHl7Intake({
    profile,
    hooks,
    submit: hixIn.submit,
    quarantineDir: join(tmp, "quarantine"),
  });
  const server = await startMllpServer({
    host: "127.0.0.1",
    port: 0,
    onMessage: (text) => hl7Intake(text, "conformance"),
  });
  const client = await connectMllp({ host: "127.0.0.1", port: server.port, ackTimeoutMs: 10_000 });
  try {
    for (const { name, text } of hl7Fixtures) {
      const controlId = parse(text).controlId;
      const ack = await client.send(text);
      const msa2 = parse(ack).get("MSA-2") ?? "";
      add({
        check: "ack",
        subject: name,
        ok: ackCode(ack) === "AA" && msa2 === controlId,
        detail: `MSA ${ackCode(ack) ?? "missing"} for MSH-10 ${msa2 === controlId ? "matching" : "NOT matching"}`,
      });
      const before = hixIn.stored.size;
      const again = await client.send(text);
      add({
        check: "duplicate",
        subject: name,
        ok: ackCode(again) === "AA" && hixIn.stored.size === before,
        detail: `resend answered ${ackCode(again) ?? "nothing"}, ${hixIn.stored.size - before} new message(s) stored`,
      });
    }
    for (const name of malformed.filter((n) => (formatFromFileName(n) ?? "hl7v2") === "hl7v2")) {
      const text = await readFile(join(malformedDir, name), "utf8");
      const ack = await client.send(text);
      const code = ackCode(ack);
      const hasErr = ack.split(/\r|\n/).some((l) => l.startsWith("ERR"));
      add({
        check: "ack",
        subject: `malformed/${name}`,
        ok: (code === "AE" || code === "AR") && hasErr,
        detail: `MSA ${code ?? "missing"}${hasErr ? " with ERR" : " without ERR"}`,
      });
    }
    const documentIntake = createDocumentIntake({
      profile,
      hooks,
      submit: hixIn.submit,
      quarantineDir: join(tmp, "quarantine"),
    });
    for (const d of documents) {
      try {
        await documentIntake(d.format, d.text, d.name);
        const before = hixIn.stored.size;
        const second = await documentIntake(d.format, d.text, d.name);
        add({
          check: "duplicate",
          subject: d.name,
          ok: hixIn.stored.size === before && second.duplicates === second.envelopeIds.length,
          detail: `same file again: ${hixIn.stored.size - before} new message(s) stored`,
        });
      } catch (err) {
        add({ check: "duplicate", subject: d.name, ok: false, detail: describeError(err).text });
      }
    }
  } finally {
    await client.close();
    await server.close();
    await rm(tmp, { recursive: true, force: true });
  }
  return { results, ok: results.every((r) => r.ok) };
}
