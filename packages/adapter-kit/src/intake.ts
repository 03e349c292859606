/**
 * Inbound processing, the same for every transport: local input → canonical bodies →
 * envelopes with deterministic ids → submitted (durably, by the caller's `submit`) → answer.
 *
 * For HL7 v2 the answer is the acknowledgment, and its order is the point of this file:
 *
 *   parse ─ bad → AR + ERR (segment, field), original quarantined
 *   convert ─ bad → AE + ERR (segment, field), original quarantined
 *   envelopes (id from facility + sender + MSH-10: a resend is the same envelope)
 *   submit every envelope ─ fails → NO acknowledgment (the sender resends)
 *   AA
 *
 * An AA is only ever built after `submit` resolved for every envelope of the message, and
 * `submit` resolves only once JetStream acknowledged the publish (services/adapter).
 */
import { buildAck, Hl7ParseError, parse, serialize, type AckError, type Hl7Message } from "@hix/hl7v2";
import {
  AnnouncementKind,
  ConversionError,
  newEnvelope,
  PurposeOfUse,
  type Conversion,
  type Envelope,
  type EnvelopeBody,
} from "@hix/proto";
import { HixError } from "@hix/runtime";
import { convertInbound } from "./codecs.js";
import type { Hooks } from "./hooks.js";
import { contentId, deterministicId, type MessageKey } from "./message-id.js";
import type { FacilityProfile, InboundFormat } from "./profile.js";
import { quarantine, type Reason } from "./quarantine.js";

/** Puts one envelope durably on HIX_IN; resolves only when it is stored. */
export type Submit = (envelope: Envelope) => Promise<{ readonly duplicate: boolean }>;

/** Remembers submitted envelope ids beyond JetStream's duplicate window (see @hix/bus IdempotencyStore). */
export interface SeenStore {
  has(id: string): Promise<boolean>;
  add(id: string): Promise<void>;
}

export interface IntakeDeps {
  readonly profile: FacilityProfile;
  readonly hooks?: Hooks | undefined;
  readonly submit: Submit;
  readonly seen?: SeenStore | undefined;
  /** Absolute folder for refused originals. */
  readonly quarantineDir: string;
  /** Observability without PHI: ids, codes, counts. */
  readonly onEvent?: ((event: IntakeEvent) => void) | undefined;
}

export type IntakeEvent =
  | {
      readonly type: "accepted";
      readonly envelopeIds: readonly string[];
      readonly duplicates: number;
      readonly source: string;
    }
  | {
      readonly type: "refused";
      readonly code: string;
      readonly location: string;
      readonly source: string;
      readonly file: string;
    };

export class AdapterError extends HixError {
  override name = "AdapterError";
}

/** HL7 `MSA-1` of an acknowledgment, for tests and the conformance suite. */
export function ackCode(ack: string): string | undefined {
  const msa = ack.split(/\r\n|\r|\n/).find((line) => line.startsWith("MSA"));
  return msa?.split(msa.charAt(3))[1];
}

const PURPOSE: Record<FacilityProfile["purposeOfUse"], PurposeOfUse> = {
  TREATMENT: PurposeOfUse.TREATMENT,
  PAYMENT: PurposeOfUse.PAYMENT,
  OPERATIONS: PurposeOfUse.OPERATIONS,
  REFERRAL: PurposeOfUse.REFERRAL,
  PATIENT_REQUEST: PurposeOfUse.PATIENT_REQUEST,
  PUBLIC_HEALTH: PurposeOfUse.PUBLIC_HEALTH,
  LEGAL: PurposeOfUse.LEGAL,
  EMERGENCY: PurposeOfUse.EMERGENCY,
  RESEARCH: PurposeOfUse.RESEARCH,
};

export function purposeOf(profile: FacilityProfile): PurposeOfUse {
  return PURPOSE[profile.purposeOfUse];
}

/**
 * Envelopes for the bodies of one input. Ids are deterministic (message-id.ts); the
 * destination is the one the body names, else the profile's route for its kind.
 */
export function envelopesFor(
  bodies: readonly EnvelopeBody[],
  key: MessageKey,
  profile: FacilityProfile,
): Envelope[] {
  return bodies.map((body, index) => {
    let toFacility = "";
    let purposeOfUse = purposeOf(profile);
    if (body.$case === "recordTransfer") {
      toFacility = profile.routes.recordTransfer ?? "";
      if (toFacility === "") {
        // No push destination: the records stay here (the record store answers requests for
        // them) and the exchange only learns that the facility has seen this patient.
        const patient = body.value.patient;
        body = {
          $case: "patientAnnouncement",
          value: {
            kind: AnnouncementKind.UPDATED,
            patient,
            retiredIds: [],
            sourceEvent: "adapter:records-seen",
            occurredAt: undefined,
          },
        };
      }
    } else if (body.$case === "referralPacket") {
      toFacility = body.value.receivingFacilityId || profile.routes.referralPacket || "";
      if (toFacility === "")
        throw new AdapterError(
          "adapter.no_route",
          "the referral names no hix facility: set routes.referralPacket in the facility profile",
        );
      body = {
        $case: "referralPacket",
        value: {
          ...body.value,
          receivingFacilityId: toFacility,
          referringFacilityId: body.value.referringFacilityId || profile.id,
        },
      };
      purposeOfUse = PurposeOfUse.REFERRAL;
    }
    const envelope = newEnvelope({ fromFacility: profile.id, toFacility, purposeOfUse, body });
    const id = deterministicId(key, index);
    return { ...envelope, id, correlationId: id };
  });
}

/** Submits envelopes in order, skipping ids already seen; returns how many were repeats. */
async function submitAll(envelopes: readonly Envelope[], deps: IntakeDeps): Promise<number> {
  let duplicates = 0;
  for (const envelope of envelopes) {
    if (deps.seen !== undefined && (await deps.seen.has(envelope.id))) {
      duplicates++;
      continue;
    }
    const result = await deps.submit(envelope);
    if (result.duplicate) duplicates++;
    await deps.seen?.add(envelope.id);
  }
  return duplicates;
}

/** Parses an HL7 v2 location written by a codec (`PID-7`, `OBX[3]-5.1`, `PID-5[1].2`) into ERR parts. */
export function errLocation(
  location: string,
): Pick<AckError, "segment" | "sequence" | "field" | "repetition" | "component"> | undefined {
  const m = /^([A-Z][A-Z0-9]{2})(?:\[(\d+)\])?(?:-(\d+)(?:\[(\d+)\])?(?:\.(\d+))?)?/.exec(location);
  if (m === null) return undefined;
  const num = (s: string | undefined): number | undefined => (s === undefined ? undefined : Number(s));
  const out: { segment: string; sequence?: number; field?: number; repetition?: number; component?: number } =
    { segment: m[1]! };
  if (m[2] !== undefined) out.sequence = Number(m[2]);
  const field = num(m[3]);
  if (field !== undefined) out.field = field;
  const rep = num(m[4]);
  if (rep !== undefined) out.repetition = rep;
  const comp = num(m[5]);
  if (comp !== undefined) out.component = comp;
  return out;
}

/** Handles one HL7 v2 message; resolves with the acknowledgment to send, or rejects (send none). */
export function createHl7Intake(deps: IntakeDeps): (text: string, source?: string) => Promise<string> {
  const refuse = async (
    text: string,
    parsed: Hl7Message | null,
    code: "AE" | "AR",
    reason: Reason,
    err: Omit<AckError, "severity" | "message"> & { message?: string },
    source: string,
  ): Promise<string> => {
    const file = await quarantine(
      deps.quarantineDir,
      `${parsed?.controlId || "unparsed"}.hl7`,
      text,
      reason,
      {
        ack: code,
        source,
      },
    );
    deps.onEvent?.({ type: "refused", code: reason.code, location: reason.location ?? "", source, file });
    const message = reason.location ? `${reason.location}: ${reason.message}` : reason.message;
    return serialize(
      buildAck(parsed ?? text, {
        code,
        text: message.slice(0, 80),
        errors: [{ ...err, severity: "E", message: err.message ?? message }],
        sendingApplication: "hix",
        sendingFacility: deps.profile.id,
      }),
    );
  };

  return async (rawText, source = "mllp") => {
    const text = deps.hooks?.beforeConvert?.(rawText, "hl7v2") ?? rawText;
    let msg: Hl7Message;
    try {
      msg = parse(text);
    } catch (e) {
      if (!(e instanceof Hl7ParseError)) throw e;
      const where = e.location?.segmentId ?? "MSH";
      const location = `${where}${e.location?.field === undefined ? "" : `-${e.location.field}`}`;
      // AR: the message could not be read at all (HL7 v2.5 §2.9.2: reject).
      return refuse(
        text,
        null,
        "AR",
        { code: e.code, location, message: e.message },
        {
          segment: where,
          ...(e.location?.field === undefined ? {} : { field: e.location.field }),
          code: 100,
        },
        source,
      );
    }
    const controlId = msg.controlId;
    if (controlId === "") {
      return refuse(
        text,
        msg,
        "AR",
        { code: "hl7.no_control_id", location: "MSH-10", message: "message control id (MSH-10) is required" },
        { segment: "MSH", field: 10, code: 101 },
        source,
      );
    }
    let conversion: Conversion;
    try {
      // beforeConvert already ran (the parse above must see the fixed text); pass the rest.
      const after = deps.hooks?.afterConvert?.bind(deps.hooks);
      conversion = convertInbound("hl7v2", text, {
        profile: deps.profile,
        ...(after === undefined ? {} : { hooks: { afterConvert: after } }),
      });
    } catch (e) {
      if (e instanceof ConversionError) {
        const loc = errLocation(e.location) ?? { segment: "MSH" };
        const unsupported = /unsupported/.test(e.code);
        return refuse(
          text,
          msg,
          unsupported ? "AR" : "AE",
          { code: e.code, location: e.location, message: e.message.replace(`${e.location}: `, "") },
          { ...loc, code: unsupported ? 200 : 102 },
          source,
        );
      }
      throw e;
    }
    const key: MessageKey = {
      facility: deps.profile.id,
      sender: `${msg.get("MSH-3") ?? ""}^${msg.get("MSH-4") ?? ""}`,
      controlId,
    };
    let envelopes: Envelope[];
    try {
      envelopes = envelopesFor(conversion.bodies, key, deps.profile);
    } catch (e) {
      if (e instanceof AdapterError)
        return refuse(
          text,
          msg,
          "AR",
          { code: e.code, message: e.message },
          { segment: "MSH", field: 9, code: 207 },
          source,
        );
      throw e;
    }
    // Throws when the bus does not confirm: then no acknowledgment at all.
    const duplicates = await submitAll(envelopes, deps);
    deps.onEvent?.({ type: "accepted", envelopeIds: envelopes.map((e) => e.id), duplicates, source });
    return serialize(
      buildAck(msg, { code: "AA", sendingApplication: "hix", sendingFacility: deps.profile.id }),
    );
  };
}

/** What happened to one document (file, FHIR post). */
export interface DocumentResult {
  readonly envelopeIds: readonly string[];
  readonly duplicates: number;
  readonly warnings: Conversion["warnings"];
}

/**
 * Handles one document of a format without its own acknowledgment (FHIR, C-CDA, CSV, or an
 * HL7 v2 file). Refusals throw ConversionError / AdapterError for the transport to report;
 * the id of each envelope comes from the content, so the same file dropped twice is one message.
 */
export function createDocumentIntake(
  deps: IntakeDeps,
): (format: InboundFormat, text: string, source: string) => Promise<DocumentResult> {
  return async (format, text, source) => {
    const conversion = convertInbound(format, text, {
      profile: deps.profile,
      ...(deps.hooks === undefined ? {} : { hooks: deps.hooks }),
    });
    const envelopes = envelopesFor(
      conversion.bodies,
      { facility: deps.profile.id, sender: format, controlId: contentId(text) },
      deps.profile,
    );
    const duplicates = await submitAll(envelopes, deps);
    deps.onEvent?.({ type: "accepted", envelopeIds: envelopes.map((e) => e.id), duplicates, source });
    return { envelopeIds: envelopes.map((e) => e.id), duplicates, warnings: conversion.warnings };
  };
}
