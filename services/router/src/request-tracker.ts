/**
 * Record-request lifecycle: a RecordRequest is tracked per holder (tables record_requests and
 * request_holders) until every holder answered — a RecordTransfer with in_reply_to = the
 * request's envelope id, outcome records / no-match / denied — or its deadline passed. Then
 * the sweeper marks the silent holders expired and sends the requester one EXPIRED receipt per
 * silent holder.
 *
 * The sweeper is safe to run in every replica: it claims overdue requests with
 * `FOR UPDATE SKIP LOCKED`, so two routers never expire the same request, and it publishes the
 * receipts (stable message ids) before committing, so a crash in between repeats the publish —
 * which JetStream drops as a duplicate — rather than losing it.
 */
import type pg from "pg";
import type { JetStreamClient } from "nats";
import { withTransaction } from "@hix/db";
import { jetStreamPublish, type Topology } from "@hix/bus";
import type { Logger } from "@hix/runtime";
import { ReceiptStatus, TransferOutcome } from "@hix/proto";
import { sendReceipt } from "./receipts.js";

type Queryable = Pick<pg.Pool, "query">;

export type HolderState = "pending" | "records" | "no_match" | "denied" | "expired";

export interface TrackedRequest {
  readonly envelopeId: string;
  readonly requester: string;
  readonly correlationId: string;
  readonly purpose: string;
  readonly deadline: Date;
  readonly holders: readonly string[];
}

/** Starts tracking; a repeat (redelivery) changes nothing. */
export async function trackRequest(pool: pg.Pool, request: TrackedRequest): Promise<void> {
  await withTransaction(pool, async (client) => {
    const inserted = await client.query(
      `INSERT INTO record_requests (envelope_id, requester, correlation_id, purpose, deadline, status)
       VALUES ($1, $2, $3, $4, $5, 'open') ON CONFLICT (envelope_id) DO NOTHING`,
      [request.envelopeId, request.requester, request.correlationId, request.purpose, request.deadline],
    );
    if (inserted.rowCount !== 1) return;
    await client.query(
      `INSERT INTO request_holders (request_id, holder, state)
       SELECT $1, h, 'pending' FROM unnest($2::text[]) AS h ON CONFLICT DO NOTHING`,
      [request.envelopeId, [...request.holders]],
    );
  });
}

export function stateOfOutcome(outcome: TransferOutcome): HolderState {
  switch (outcome) {
    case TransferOutcome.NO_MATCH:
      return "no_match";
    case TransferOutcome.DENIED:
      return "denied";
    default:
      return "records";
  }
}

export interface AnswerResult {
  /** The request exists and `holder` was one of its pending holders. */
  readonly counted: boolean;
  readonly requester?: string;
  readonly correlationId?: string;
  /** Every holder has now answered (or expired). */
  readonly complete: boolean;
}

/** Records a holder's answer; idempotent (only a pending holder changes state). */
export async function recordAnswer(
  pool: pg.Pool,
  answer: { requestId: string; holder: string; state: HolderState; answerEnvelopeId: string },
): Promise<AnswerResult> {
  return withTransaction(pool, async (client) => {
    const request = await client.query<{ requester: string; correlation_id: string }>(
      "SELECT requester, correlation_id FROM record_requests WHERE envelope_id = $1 FOR UPDATE",
      [answer.requestId],
    );
    const found = request.rows[0];
    if (found === undefined) return { counted: false, complete: false };
    const updated = await client.query(
      `UPDATE request_holders SET state = $3, answer_envelope_id = $4, updated_at = now()
       WHERE request_id = $1 AND holder = $2 AND state = 'pending'`,
      [answer.requestId, answer.holder, answer.state, answer.answerEnvelopeId],
    );
    const pending = await client.query<{ n: string }>(
      "SELECT count(*) AS n FROM request_holders WHERE request_id = $1 AND state = 'pending'",
      [answer.requestId],
    );
    const complete = Number(pending.rows[0]!.n) === 0;
    if (complete && updated.rowCount === 1) {
      await client.query(
        "UPDATE record_requests SET status = 'complete', closed_at = now() WHERE envelope_id = $1 AND status = 'open'",
        [answer.requestId],
      );
    }
    return {
      counted: updated.rowCount === 1,
      requester: found.requester,
      correlationId: found.correlation_id,
      complete,
    };
  });
}

export interface RequestStatus {
  readonly envelopeId: string;
  readonly requester: string;
  readonly status: "open" | "complete" | "expired";
  readonly deadline: Date;
  readonly createdAt: Date;
  readonly closedAt: Date | null;
  readonly holders: ReadonlyArray<{
    holder: string;
    state: HolderState;
    answerEnvelopeId: string | null;
    updatedAt: Date;
  }>;
}

/** Where a request stands (`hix request status <id>`); undefined when it is not tracked. */
export async function requestStatus(db: Queryable, envelopeId: string): Promise<RequestStatus | undefined> {
  const r = await db.query<{
    envelope_id: string;
    requester: string;
    status: RequestStatus["status"];
    deadline: Date;
    created_at: Date;
    closed_at: Date | null;
  }>(
    "SELECT envelope_id, requester, status, deadline, created_at, closed_at FROM record_requests WHERE envelope_id = $1",
    [envelopeId],
  );
  const row = r.rows[0];
  if (row === undefined) return undefined;
  const h = await db.query<{
    holder: string;
    state: HolderState;
    answer_envelope_id: string | null;
    updated_at: Date;
  }>(
    "SELECT holder, state, answer_envelope_id, updated_at FROM request_holders WHERE request_id = $1 ORDER BY holder",
    [envelopeId],
  );
  return {
    envelopeId: row.envelope_id,
    requester: row.requester,
    status: row.status,
    deadline: row.deadline,
    createdAt: row.created_at,
    closedAt: row.closed_at,
    holders: h.rows.map((x) => ({
      holder: x.holder,
      state: x.state,
      answerEnvelopeId: x.answer_envelope_id,
      updatedAt: x.updated_at,
    })),
  };
}

/**
 * One sweep: expires overdue open requests (at most `limit`), sending EXPIRED receipts for
 * their silent holders. Returns how many requests it expired.
 */
export async function sweepExpired(options: {
  pool: pg.Pool;
  js: JetStreamClient;
  topology: Topology;
  limit?: number;
}): Promise<number> {
  return withTransaction(options.pool, async (client) => {
    const due = await client.query<{ envelope_id: string; requester: string; correlation_id: string }>(
      `SELECT envelope_id, requester, correlation_id FROM record_requests
       WHERE status = 'open' AND deadline < now()
       ORDER BY deadline LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [options.limit ?? 100],
    );
    for (const request of due.rows) {
      const silent = await client.query<{ holder: string }>(
        `UPDATE request_holders SET state = 'expired', updated_at = now()
         WHERE request_id = $1 AND state = 'pending' RETURNING holder`,
        [request.envelope_id],
      );
      for (const { holder } of silent.rows) {
        await sendReceipt(jetStreamPublish(options.js), options.topology, {
          to: request.requester,
          regardingId: request.envelope_id,
          correlationId: request.correlation_id,
          status: ReceiptStatus.EXPIRED,
          code: "router.holder_silent",
          reason: `${holder} did not answer before the request's deadline; ask them directly or send a new request`,
          facilityId: holder,
        });
      }
      await client.query(
        "UPDATE record_requests SET status = 'expired', closed_at = now() WHERE envelope_id = $1",
        [request.envelope_id],
      );
    }
    return due.rows.length;
  });
}

/** Runs `sweepExpired` every `intervalMs` until stopped. */
export function startSweeper(options: {
  pool: pg.Pool;
  js: JetStreamClient;
  topology: Topology;
  logger: Logger;
  intervalMs: number;
}): { stop(): Promise<void> } {
  const log = options.logger.child({ component: "sweeper" });
  let running: Promise<void> | undefined;
  const tick = (): void => {
    if (running !== undefined) return;
    running = sweepExpired(options)
      .then((n) => {
        if (n > 0) log.info({ expired: n }, "requests expired");
      })
      .catch((err: unknown) => log.warn({ err }, "sweep failed; will try again"))
      .finally(() => (running = undefined));
  };
  const timer = setInterval(tick, options.intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
