import { HixError } from "@hix/runtime";
import { ReceiptStatus } from "@hix/proto";

/** How a refusal is written in the audit ledger (see audit-ledger.ts). */
export type RefusalOutcome = "rejected" | "denied" | "failed";

/**
 * The router refuses a message (or one destination of it) for a reason that will not go
 * away by trying again: the pipeline turns it into a receipt to the originator, an audit
 * row, and — when the whole message is refused — a dead letter. Messages are written for
 * the facility's staff: what is wrong and what to do, never content (no PHI).
 */
export class RouterRejection extends HixError {
  override name = "RouterRejection";
  /** Receipt status the originator gets: REJECTED, or EXPIRED for a deadline already past. */
  readonly status: ReceiptStatus;
  readonly outcome: RefusalOutcome;
  /** The facility concerned (the destination refused), when there is one. */
  readonly facilityId: string;

  constructor(
    code: RejectionCode,
    message: string,
    options: { status?: ReceiptStatus; outcome?: RefusalOutcome; facilityId?: string } = {},
  ) {
    super(code, message, { retryable: false });
    this.status = options.status ?? ReceiptStatus.REJECTED;
    this.outcome = options.outcome ?? "rejected";
    this.facilityId = options.facilityId ?? "";
  }
}

/** Every machine code a router receipt can carry; stable, documented in the README. */
export const REJECTION_CODES = [
  "router.undecodable",
  "router.too_large",
  "router.invalid",
  "router.content_hash_mismatch",
  "router.deadline_passed",
  "router.sender_mismatch",
  "router.unknown_sender",
  "router.sender_suspended",
  "router.unknown_destination",
  "router.destination_suspended",
  "router.policy_refuses_purpose",
  "router.locator_unavailable",
  "router.no_holders",
  "router.receipt_unrelated",
  "router.kind_not_routable",
] as const;
export type RejectionCode = (typeof REJECTION_CODES)[number];

/** A transient failure (PostgreSQL or NATS unreachable): the message is retried with backoff. */
export class RouterUnavailableError extends HixError {
  override name = "RouterUnavailableError";
  constructor(code: string, message: string, cause?: unknown) {
    super(code, message, { retryable: true, cause });
  }
}
