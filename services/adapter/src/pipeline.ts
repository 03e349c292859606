/**
 * The adapter's processing order, in one place.
 *
 * Inbound (MLLP, inbox folder, FHIR HTTP → HIX_IN):
 *   receive → convert (codec + profile code maps + hooks) → envelopes (deterministic ids)
 *   → publish to hix.in.<facility>.<kind>, awaiting JetStream's ack → answer the sender
 *   (MLLP AA / HTTP 200 / file to done/). A refusal answers AE/AR / 4xx / error/ and keeps the
 *   original; a publish that is not acknowledged answers nothing, so the sender retries.
 *
 * Outbound (HIX_OUT hix.out.<facility>.> → the facility):
 *   decode → record_request: policy → record store → RecordTransfer reply published to HIX_IN
 *          → anything else: render in the facility's format → destination → ack
 *   Errors map to ack / nak (retryable) / dead letter (permanent) in @hix/bus.
 */
import type { JetStreamClient } from "nats";
import {
  answerRecordRequest,
  createDeliverer,
  type FacilityProfile,
  type Hooks,
  type RecordStore,
  type Submit,
} from "@hix/adapter-kit";
import {
  ack,
  envelopeHandler,
  publishEnvelope,
  reject,
  subjectKind,
  type Handler,
  type Topology,
} from "@hix/bus";
import { HixError, type Logger } from "@hix/runtime";

export class AdapterPublishError extends HixError {
  override name = "AdapterPublishError";
}

/** Publishes one envelope to HIX_IN and resolves only on JetStream's ack (the message is stored). */
export function busSubmit(deps: {
  js: JetStreamClient;
  topology: Topology;
  facility: string;
  timeoutMs: number;
}): Submit {
  return async (envelope) => {
    const kind = subjectKind(envelope);
    if (kind === undefined)
      throw new AdapterPublishError("adapter.no_body", `envelope ${envelope.id} has no body`);
    const subject = deps.topology.inSubject(deps.facility, kind);
    const pubAck = await withTimeout(
      publishEnvelope(deps.js, subject, envelope, { expectStream: deps.topology.streams.in.name }),
      deps.timeoutMs,
    );
    return { duplicate: pubAck.duplicate };
  };
}

/** A publish that hangs (NATS reconnecting, buffering) must not hold the sender forever. */
async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, rej) => {
        timer = setTimeout(
          () =>
            rej(
              new AdapterPublishError("adapter.publish_timeout", `no JetStream ack within ${ms} ms`, {
                retryable: true,
              }),
            ),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Handles what HIX_OUT delivers to this facility. */
export function outboundHandler(deps: {
  profile: FacilityProfile;
  resolvePath: (p: string) => string;
  hooks: Hooks | undefined;
  store: RecordStore | undefined;
  submit: Submit;
  logger: Logger;
}): Handler {
  const log = deps.logger.child({ component: "outbound" });
  const outbound = deps.profile.outbound;
  const deliverer =
    outbound === undefined
      ? undefined
      : createDeliverer({
          outbound,
          profile: deps.profile,
          hooks: deps.hooks,
          resolvePath: deps.resolvePath,
        });
  return envelopeHandler(async (envelope) => {
    const kind = envelope.body?.$case;
    if (kind === "recordRequest") {
      const answer = await answerRecordRequest(envelope, { profile: deps.profile, store: deps.store });
      await deps.submit(answer);
      const outcome = answer.body?.$case === "recordTransfer" ? answer.body.value.outcome : undefined;
      log.info(
        {
          requestId: envelope.id,
          answerId: answer.id,
          outcome,
          records: answer.body?.$case === "recordTransfer" ? answer.body.value.records.length : 0,
        },
        "record request answered",
      );
      return ack();
    }
    if (kind === "receipt") {
      const r = envelope.body?.$case === "receipt" ? envelope.body.value : undefined;
      log.info(
        { envelopeId: envelope.id, regardingId: r?.regardingId, status: r?.status, code: r?.code },
        "receipt received",
      );
      return ack();
    }
    if (kind === "identityAlert") {
      const a = envelope.body?.$case === "identityAlert" ? envelope.body.value : undefined;
      log.info(
        { envelopeId: envelope.id, alertId: a?.alertId, alertKind: a?.kind, records: a?.records.length },
        "identity alert received",
      );
      // HL7 v2 has no message for an identity alert: an HL7 facility sees it in `hix review`;
      // facilities taking FHIR or canonical JSON get it in their outbox as well.
      if (deliverer !== undefined && outbound?.format !== "hl7v2") await deliverer.deliver(envelope);
      return ack();
    }
    if (deliverer === undefined) {
      return reject(
        "adapter.no_outbound",
        `facility ${deps.profile.id} has no outbound destination in its profile`,
      );
    }
    await deliverer.deliver(envelope);
    log.info({ envelopeId: envelope.id, kind, destination: outbound?.destination.kind }, "delivered");
    return ack();
  });
}
