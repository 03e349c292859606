/**
 * The router's processing order, top to bottom, for one message from HIX_IN:
 *
 *   decode → validate → authenticate sender → authorize → resolve destinations
 *     → publish to HIX_OUT → audit → receipt → ack
 *
 * Idempotent end to end; the envelope id is the key. A redelivered message skips the
 * destinations the audit ledger already shows as disclosed; each publish to HIX_OUT carries
 * Nats-Msg-Id `<envelope id>.<destination>` (JetStream drops a repeat within its duplicate
 * window — the case of a crash between publish and audit); audit rows are unique per
 * (envelope id, destination, outcome); receipts carry ids derived from what they say, and are
 * sent again for every destination on a redelivery (a crash may have come before them).
 *
 * A message refused as a whole (undecodable, too large, invalid, spoofed, unauthorized, no
 * destination) gets an audit row and a `rejected` (or `expired`) receipt to the facility that
 * submitted it, then the handler returns `reject` and the consumer dead-letters it with the
 * same code and reason. Anything else that goes wrong (PostgreSQL or NATS unavailable) throws,
 * and the consumer retries with backoff. Nothing in the input can crash the router.
 */
import type { JetStreamClient } from "nats";
import {
  REPLAY_HEADER,
  ack,
  reject,
  subjectKind,
  type Delivery,
  type Handler,
  type Outcome,
  type Topology,
  jetStreamPublish,
  type Publish,
} from "@hix/bus";
import type { Logger } from "@hix/runtime";
import {
  DisclosureAction,
  ReceiptStatus,
  encodeEnvelope,
  isUlid,
  purposeOfUseToJSON,
  sensitivityLabelToJSON,
  transferOutcomeToJSON,
  type Envelope,
} from "@hix/proto";
import type pg from "pg";
import { ledgerText, patientRefHash, type AuditEntry, type AuditLedger } from "./audit-ledger.js";
import { authenticateSender } from "./authorize.js";
import type { DirectoryView } from "./directory.js";
import { RouterRejection } from "./errors.js";
import type { Locator } from "./locate.js";
import { receiptSender, type ReceiptInput } from "./receipts.js";
import { recordAnswer, stateOfOutcome, trackRequest } from "./request-tracker.js";
import { resolveDestinations, type Destination } from "./resolve.js";
import { decodeSubmission, validateEnvelope } from "./validate.js";

export interface PipelineDeps {
  readonly js: JetStreamClient;
  /** Acknowledged publishes of deliveries and receipts; `js.publish` when not given. */
  readonly publish?: Publish;
  readonly pool: pg.Pool;
  readonly topology: Topology;
  readonly directory: DirectoryView;
  readonly audit: AuditLedger;
  readonly locate: Locator;
  readonly logger: Logger;
  readonly maxMessageBytes: number;
  /** Deadline given to a record request that states none. */
  readonly defaultDeadlineMs: number;
  /** Key of the patient reference hash in the audit ledger. */
  readonly patientHashKey: string;
  readonly now?: () => Date;
}

/** Header on a delivered record request: what the holder's disclosure policy says to do. */
export const DISCLOSURE_HEADER = "Hix-Disclosure-Action";

export function createPipeline(deps: PipelineDeps): Handler {
  const log = deps.logger.child({ component: "pipeline" });
  const now = deps.now ?? (() => new Date());
  const publish = deps.publish ?? jetStreamPublish(deps.js);
  const receipts = receiptSender(publish, deps.topology);

  return async (delivery) => {
    // The facility that submitted the message is the one in the subject (hix.in.<facility>.<kind>).
    const submitter = deps.topology.parse(delivery.subject)?.facility ?? "";
    let envelope: Envelope | undefined;
    try {
      // 1. decode
      envelope = decodeSubmission(delivery.data, deps.maxMessageBytes);
      // 2. validate
      validateEnvelope(envelope, now(), delivery.data);
      // 3. authenticate sender
      authenticateSender(envelope, submitter, deps.directory);
      // 4–5. authorize each destination, resolve destinations
      const { destinations, refused } = await resolveDestinations(envelope, deps, delivery.deliveryCount);
      if (destinations.length === 0) return ack(); // a patient announcement: the reconciler's

      // A redelivery or a DLQ replay: leave out destinations the ledger shows it already reached.
      // A first delivery cannot have reached any; skipping the lookup then keeps PostgreSQL off
      // the per-message path (docs/adr/0004-router.md).
      const repeat = delivery.deliveryCount > 1 || (delivery.headers?.get(REPLAY_HEADER) ?? "") !== "";
      const done = repeat ? await alreadyDisclosed(envelope.id) : new Set<string>();
      const todo = destinations.filter((d) => !done.has(d.facility));
      await trackIfRequest(envelope, destinations);

      // 6. publish to HIX_OUT — before the audit row, so the ledger never shows a disclosure
      //    that did not happen (a redelivery would then skip that destination).
      await publishToDestinations(envelope, delivery.data, todo);
      const answered = await recordIfAnswer(envelope);
      // 7. audit and 8. receipts, together: both are idempotent, and the ack waits for both.
      const e = envelope;
      await Promise.all([
        deps.audit.append([
          ...destinations.map((d) => auditEntry(e, submitter, d.facility, "disclosed", "")),
          ...refused.map((r) => auditEntry(e, submitter, r.facilityId, r.outcome, r.code)),
        ]),
        sendReceipts(e, destinations, refused, answered),
      ]);
      // 9. ack
      return ack();
    } catch (err) {
      if (!(err instanceof RouterRejection)) throw err; // transient: the consumer retries
      return refuse(delivery, submitter, envelope, err);
    }
  };

  async function alreadyDisclosed(envelopeId: string): Promise<Set<string>> {
    const rows = await deps.audit.rowsFor(envelopeId);
    return new Set(rows.filter((r) => r.outcome === "disclosed").map((r) => r.receiver));
  }

  async function trackIfRequest(envelope: Envelope, destinations: readonly Destination[]): Promise<void> {
    if (envelope.body?.$case !== "recordRequest") return;
    await trackRequest(deps.pool, {
      envelopeId: envelope.id,
      requester: envelope.fromFacility,
      correlationId: envelope.correlationId || envelope.id,
      purpose: purposeOfUseToJSON(envelope.purposeOfUse),
      deadline: envelope.body.value.deadline ?? new Date(now().getTime() + deps.defaultDeadlineMs),
      holders: destinations.map((d) => d.facility),
    });
  }

  /**
   * The submitted bytes go out unchanged when they already name the destination (a future
   * signature over them stays valid, and nothing is re-encoded); a fanned-out request is
   * re-encoded with each holder as `to_facility` (the body, and so content_hash, is unchanged).
   */
  async function publishToDestinations(
    envelope: Envelope,
    submitted: Uint8Array,
    destinations: readonly Destination[],
  ): Promise<void> {
    const kind = subjectKind(envelope)!;
    await Promise.all(
      destinations.map((d) => {
        const bytes =
          envelope.toFacility === d.facility
            ? submitted
            : encodeEnvelope({ ...envelope, toFacility: d.facility });
        return publish(deps.topology.outSubject(d.facility, kind), bytes, {
          msgId: `${envelope.id}.${d.facility}`,
          expectStream: deps.topology.streams.out.name,
          ...(d.action === undefined
            ? {}
            : {
                headers: {
                  [DISCLOSURE_HEADER]: d.action === DisclosureAction.AUTO_ANSWER ? "auto" : "review",
                },
              }),
        });
      }),
    );
  }

  /** A RecordTransfer that answers a tracked request moves that holder's state on. */
  async function recordIfAnswer(envelope: Envelope): Promise<ReceiptInput | undefined> {
    if (envelope.body?.$case !== "recordTransfer" || envelope.body.value.inReplyTo === "") return undefined;
    const transfer = envelope.body.value;
    const result = await recordAnswer(deps.pool, {
      requestId: transfer.inReplyTo,
      holder: envelope.fromFacility,
      state: stateOfOutcome(transfer.outcome),
      answerEnvelopeId: envelope.id,
    });
    if (result.requester === undefined) return undefined;
    return {
      to: result.requester,
      regardingId: transfer.inReplyTo,
      correlationId: result.correlationId ?? transfer.inReplyTo,
      status: ReceiptStatus.ANSWERED,
      code: `answer.${stateOfOutcome(transfer.outcome)}`,
      reason: `${envelope.fromFacility} answered (${transferOutcomeToJSON(transfer.outcome)}) in ${envelope.id}${result.complete ? "; every holder has now answered" : ""}`,
      facilityId: envelope.fromFacility,
      purposeOfUse: envelope.purposeOfUse,
    };
  }

  async function sendReceipts(
    envelope: Envelope,
    routed: readonly Destination[],
    refused: readonly RouterRejection[],
    answered: ReceiptInput | undefined,
  ): Promise<void> {
    // Written out field by field: `{ ...common, status, … }` costs V8 about 2 µs an object
    // (a spread with fields added leaves its fast path), more than building the receipt.
    const receipt = (
      status: ReceiptStatus,
      code: string,
      reason: string,
      facilityId: string,
    ): ReceiptInput => ({
      to: envelope.fromFacility,
      regardingId: envelope.id,
      correlationId: envelope.correlationId || envelope.id,
      purposeOfUse: envelope.purposeOfUse,
      status,
      code,
      reason,
      facilityId,
    });
    const toSend: ReceiptInput[] = [];
    // A facility's own receipt is not receipted again (no receipt ping-pong).
    if (envelope.body?.$case !== "receipt") {
      for (const d of routed)
        toSend.push(receipt(ReceiptStatus.ROUTED, "", `routed to ${d.facility}`, d.facility));
    }
    for (const r of refused) toSend.push(receipt(r.status, r.code, r.message, r.facilityId));
    if (answered !== undefined) toSend.push(answered);
    await Promise.all(toSend.map((r) => receipts.send(r)));
  }

  async function refuse(
    delivery: Delivery,
    submitter: string,
    envelope: Envelope | undefined,
    rejection: RouterRejection,
  ): Promise<Outcome> {
    // Refused input is not trusted into the ledger, a receipt's message id or a log as it came.
    const regardingId = ledgerText(envelope?.id || delivery.messageId);
    log.info(
      {
        seq: delivery.streamSequence,
        envelopeId: regardingId,
        submitter: ledgerText(submitter),
        code: rejection.code,
      },
      "message refused",
    );
    const receiver = rejection.facilityId || envelope?.toFacility || "";
    await deps.audit.append([
      envelope === undefined
        ? {
            occurredAt: now(),
            envelopeId: regardingId,
            correlationId: "",
            sender: ledgerText(submitter),
            receiver: "",
            kind: ledgerText(deps.topology.parse(delivery.subject)?.kind ?? "unknown"),
            purpose: "",
            outcome: rejection.outcome,
            code: rejection.code,
            patientRefHash: null,
            contentHash: null,
            sensitivity: [],
          }
        : {
            ...auditEntry(envelope, submitter, receiver, rejection.outcome, rejection.code),
            envelopeId: regardingId,
          },
    ]);
    if (submitter !== "") {
      await receipts.send({
        to: submitter,
        regardingId,
        // A refused envelope's correlation id is as it came: kept only when it is a ULID.
        correlationId:
          envelope !== undefined && isUlid(envelope.correlationId) ? envelope.correlationId : regardingId,
        ...(envelope === undefined ? {} : { purposeOfUse: envelope.purposeOfUse }),
        status: rejection.status,
        code: rejection.code,
        reason: rejection.message,
        facilityId: rejection.facilityId,
      });
    }
    return reject(rejection.code, rejection.message);
  }

  function auditEntry(
    envelope: Envelope,
    sender: string,
    receiver: string,
    outcome: AuditEntry["outcome"],
    code: string,
  ): AuditEntry {
    const patient = patientOf(envelope);
    return {
      occurredAt: now(),
      envelopeId: ledgerText(envelope.id),
      correlationId: ledgerText(envelope.correlationId || envelope.id),
      sender: ledgerText(sender),
      receiver: ledgerText(receiver),
      kind: subjectKind(envelope) ?? "unknown",
      purpose: purposeOfUseToJSON(envelope.purposeOfUse),
      outcome,
      code,
      patientRefHash:
        patient === undefined || patient.localPatientId === ""
          ? null
          : patientRefHash(
              deps.patientHashKey,
              patient.sourceFacility || envelope.fromFacility,
              patient.localPatientId,
            ),
      contentHash: envelope.contentHash.byteLength === 0 ? null : envelope.contentHash,
      sensitivity: envelope.sensitivity.map((s) => sensitivityLabelToJSON(s)),
    };
  }
}

function patientOf(envelope: Envelope): { sourceFacility: string; localPatientId: string } | undefined {
  const body = envelope.body;
  switch (body?.$case) {
    case "recordRequest":
    case "recordTransfer":
    case "referralPacket":
    case "patientAnnouncement":
      return body.value.patient;
    default:
      return undefined;
  }
}
