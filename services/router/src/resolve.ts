/**
 * Pipeline step 5: who gets the message. An explicit destination (to_facility, the request's
 * facility_id, the referral's receiving facility), the holders the record locator names for a
 * `locate` request, or — for a receipt a facility sends (e.g. accepting a referral) — the
 * facility that sent the message it is about, as the audit ledger recorded it.
 */
import type { DisclosureAction, Envelope } from "@hix/proto";
import type { AuditLedger } from "./audit-ledger.js";
import { authorizeDestination } from "./authorize.js";
import type { DirectoryView } from "./directory.js";
import { RouterRejection, RouterUnavailableError } from "./errors.js";
import type { Locator } from "./locate.js";

export interface Destination {
  readonly facility: string;
  /** For record requests: what the holder's policy says (auto answer or review). */
  readonly action: DisclosureAction | undefined;
}

export interface Resolution {
  readonly destinations: readonly Destination[];
  /** Located holders that may not be asked; each gets its own receipt and audit row. */
  readonly refused: readonly RouterRejection[];
}

export interface ResolveDeps {
  readonly directory: DirectoryView;
  readonly locate: Locator;
  readonly audit: Pick<AuditLedger, "rowsFor">;
}

const single = (envelope: Envelope, facility: string, deps: ResolveDeps): Resolution => ({
  destinations: [{ facility, action: authorizeDestination(envelope, facility, deps.directory) }],
  refused: [],
});

/** Deliveries a facility receipt waits for the ledger row of the message it is about. */
export const RECEIPT_LEDGER_WAIT_DELIVERIES = 3;

export async function resolveDestinations(
  envelope: Envelope,
  deps: ResolveDeps,
  deliveryCount = 1,
): Promise<Resolution> {
  const body = envelope.body!;
  switch (body.$case) {
    case "recordRequest": {
      const holder = body.value.holder;
      if (holder?.$case !== "locate") {
        return single(envelope, holder?.$case === "facilityId" ? holder.value : envelope.toFacility, deps);
      }
      return locateHolders(
        envelope,
        holder.value.minScore,
        holder.value.maxHolders,
        holder.value.excludeFacilityIds,
        deps,
      );
    }
    case "recordTransfer":
      return single(envelope, envelope.toFacility, deps);
    case "referralPacket":
      return single(envelope, envelope.toFacility || body.value.receivingFacilityId, deps);
    case "receipt":
      return single(
        envelope,
        await receiptDestination(envelope, body.value.regardingId, deps, deliveryCount),
        deps,
      );
    case "patientAnnouncement":
      // For the reconciler, which reads HIX_IN itself; no facility receives it.
      return { destinations: [], refused: [] };
    case "identityAlert":
      throw new RouterRejection(
        "router.kind_not_routable",
        `envelope ${envelope.id}: identity alerts are raised by the reconciler, not sent between facilities`,
      );
    case "receiptBatch":
      throw new RouterRejection(
        "router.kind_not_routable",
        `envelope ${envelope.id}: receipt batches are made by the exchange; send each receipt as its own message`,
      );
  }
}

async function locateHolders(
  envelope: Envelope,
  minScore: number,
  maxHolders: number,
  exclude: readonly string[],
  deps: ResolveDeps,
): Promise<Resolution> {
  const request = envelope.body?.$case === "recordRequest" ? envelope.body.value : undefined;
  const holders = await deps.locate({
    ...(request?.patient === undefined ? {} : { patient: request.patient }),
    minScore,
    maxHolders,
    // A requester never asks itself.
    excludeFacilityIds: [...new Set([...exclude, envelope.fromFacility])],
  });
  const ids = [...new Set(holders.map((h) => h.facilityId))].filter(
    (id) => id !== envelope.fromFacility && !exclude.includes(id),
  );
  const destinations: Destination[] = [];
  const refused: RouterRejection[] = [];
  for (const id of ids) {
    try {
      destinations.push({ facility: id, action: authorizeDestination(envelope, id, deps.directory) });
    } catch (err) {
      if (!(err instanceof RouterRejection)) throw err;
      refused.push(err);
    }
  }
  if (destinations.length === 0) {
    const why = refused.map((r) => `${r.facilityId} (${r.code})`).join(", ");
    throw new RouterRejection(
      "router.no_holders",
      ids.length === 0
        ? `request ${envelope.id}: the record locator knows no other facility holding records for this patient`
        : `request ${envelope.id}: the record locator found holders, but none may be asked: ${why}`,
    );
  }
  return { destinations, refused };
}

/**
 * A facility's receipt goes back to whoever sent it the message it is about — and only if
 * that message really was delivered to this facility (otherwise a facility could send
 * "receipts" to anyone).
 */
async function receiptDestination(
  envelope: Envelope,
  regardingId: string,
  deps: ResolveDeps,
  deliveryCount: number,
): Promise<string> {
  const rows = await deps.audit.rowsFor(regardingId);
  const delivered = rows.find(
    (r) =>
      r.outcome === "disclosed" &&
      r.receiver === envelope.fromFacility &&
      (envelope.toFacility === "" || r.sender === envelope.toFacility),
  );
  if (delivered === undefined && deliveryCount < RECEIPT_LEDGER_WAIT_DELIVERIES) {
    // The message may have been delivered a moment ago with its audit row not yet committed
    // (the router audits after publishing): try again shortly before calling it unrelated.
    throw new RouterUnavailableError(
      "router.receipt_regarding_pending",
      `receipt ${envelope.id}: no delivery of ${regardingId} to ${envelope.fromFacility} recorded yet`,
    );
  }
  if (delivered === undefined) {
    throw new RouterRejection(
      "router.receipt_unrelated",
      `receipt ${envelope.id} is about ${regardingId}, which the exchange did not deliver to ${envelope.fromFacility}${envelope.toFacility === "" ? "" : ` from ${envelope.toFacility}`}`,
    );
  }
  return delivered.sender;
}
