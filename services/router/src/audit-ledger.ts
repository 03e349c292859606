/**
 * The audit ledger: one append-only row per disclosure — who sent what kind of message about
 * which patient to whom, for what purpose, when, how it ended, and the content's hash — in
 * PostgreSQL table `audit_ledger` (migrations/0001).
 *
 * Hash chain. Row n stores prev_hash = row_hash of row n-1 (32 zero bytes for row 1) and
 *   row_hash = SHA-256(prev_hash ‖ UTF-8(canonical(row)))
 * where canonical(row) is the JSON array of its fields in a fixed order (`canonical` below).
 * Editing any field of a row, deleting or reordering rows, or cutting the tail (the chain head
 * keeps the last seq and hash) is detected by `verifyLedger`.
 *
 * One chain across replicas: the single-row `audit_chain_head` holds the last seq and hash, and
 * an append moves it in the same transaction as it inserts its rows, so appends are serialized
 * and seq is dense. Each router groups the rows waiting to be written into one append (group
 * commit): at 1,000 messages/s an append carries about ten rows, at saturation about sixty. A
 * router chains its next batch onto the head it last wrote and sends it as one prepared
 * statement that moves the head only if the head is still that one (compare-and-set; one round
 * trip). When another replica moved it meanwhile, or a row is in the ledger already, nothing is
 * written, and the batch is appended again under the head's row lock.
 *
 * Idempotent: (envelope_id, receiver, outcome) is unique, and rows already present are skipped inside
 * the locked transaction, so a redelivered message never adds a second row or breaks the chain.
 *
 * PHI: the ledger holds facility ids, message ids, kinds, purposes, outcomes, codes, hashes.
 * The patient appears only as `patient_ref_hash` = HMAC-SHA256(key, source facility ‖ 0x00 ‖
 * local patient id): searchable by whoever holds the key, meaningless to anyone else; null
 * when the message names no local patient id (e.g. a locate request by demographics only).
 */
import { createHash, createHmac } from "node:crypto";
import type pg from "pg";
import { toDbError, withTransaction } from "@hix/db";
import type { Logger } from "@hix/runtime";

export type AuditOutcomeText = "disclosed" | "denied" | "rejected" | "failed";

/** One row to append. */
export interface AuditEntry {
  readonly occurredAt: Date;
  readonly envelopeId: string;
  readonly correlationId: string;
  readonly sender: string;
  /** Destination facility; empty when the message was refused before one was known. */
  readonly receiver: string;
  /** Body kind as in subjects (record_request …), or "unknown" for undecodable bytes. */
  readonly kind: string;
  /** PurposeOfUse JSON name, e.g. PURPOSE_OF_USE_TREATMENT. */
  readonly purpose: string;
  readonly outcome: AuditOutcomeText;
  /** Machine code: empty for a disclosure, the rejection code otherwise. */
  readonly code: string;
  readonly patientRefHash: Buffer | null;
  readonly contentHash: Buffer | null;
  readonly sensitivity: readonly string[];
}

/** A stored row. */
export interface AuditRow extends AuditEntry {
  readonly seq: number;
  readonly id: string;
  readonly prevHash: Buffer;
  readonly rowHash: Buffer;
}

export const GENESIS_HASH: Buffer = Buffer.alloc(32);

/** The canonical form hashed into the chain; changing it is a new ledger version. */
export function canonical(row: Omit<AuditRow, "prevHash" | "rowHash">): string {
  return canonicalEntry(row.seq, row.id, row);
}

/**
 * `canonical` of the row an entry becomes as row `seq` with id `id`, without building that row:
 * `{ ...entry, seq, id }` costs V8 about 2 µs (a spread with fields added leaves its fast path),
 * and reading the fields of the object it makes costs as much again.
 */
function canonicalEntry(seq: number, id: string, entry: AuditEntry): string {
  return JSON.stringify([
    seq,
    id,
    entry.occurredAt.toISOString(),
    entry.envelopeId,
    entry.correlationId,
    entry.sender,
    entry.receiver,
    entry.kind,
    entry.purpose,
    entry.outcome,
    entry.code,
    entry.patientRefHash?.toString("hex") ?? null,
    entry.contentHash?.toString("hex") ?? null,
    entry.sensitivity,
  ]);
}

export function rowHash(prevHash: Buffer, row: Omit<AuditRow, "prevHash" | "rowHash">): Buffer {
  return hashCanonical(prevHash, canonical(row));
}

function hashCanonical(prevHash: Buffer, canonicalRow: string): Buffer {
  return createHash("sha256").update(prevHash).update(canonicalRow, "utf8").digest();
}

/**
 * Text from a sender as the ledger keeps it: unchanged when it is up to 128 printable ASCII
 * characters (as every id, facility id and code the ledger holds is), otherwise `#` and the
 * first 32 hex digits of its SHA-256. A refused message's id may be anything — megabytes long,
 * or holding a NUL, which PostgreSQL's text cannot store — and must still be recorded, the same
 * way on every redelivery, without failing the batch it is written in.
 */
export function ledgerText(value: string): string {
  return LEDGER_TEXT.test(value)
    ? value
    : `#${createHash("sha256").update(value, "utf8").digest("hex").slice(0, 32)}`;
}

const LEDGER_TEXT = /^[\x21-\x7e]{0,128}$/;

/** Keyed hash of a patient reference (see the file comment). */
export function patientRefHash(key: string, facilityId: string, localPatientId: string): Buffer {
  return createHmac("sha256", key).update(`${facilityId}\u0000${localPatientId}`, "utf8").digest();
}

interface StoredRow {
  seq: string;
  id: string;
  occurred_at: Date;
  envelope_id: string;
  correlation_id: string;
  sender: string;
  receiver: string;
  kind: string;
  purpose: string;
  outcome: AuditOutcomeText;
  code: string;
  patient_ref_hash: Buffer | null;
  content_hash: Buffer | null;
  sensitivity: string[];
  prev_hash: Buffer;
  row_hash: Buffer;
}

const ROW_COLUMNS =
  "seq, id, occurred_at, envelope_id, correlation_id, sender, receiver, kind, purpose, outcome, code, patient_ref_hash, content_hash, sensitivity, prev_hash, row_hash";

function fromStored(r: StoredRow): AuditRow {
  return {
    seq: Number(r.seq),
    id: r.id,
    occurredAt: r.occurred_at,
    envelopeId: r.envelope_id,
    correlationId: r.correlation_id,
    sender: r.sender,
    receiver: r.receiver,
    kind: r.kind,
    purpose: r.purpose,
    outcome: r.outcome,
    code: r.code,
    patientRefHash: r.patient_ref_hash,
    contentHash: r.content_hash,
    sensitivity: r.sensitivity,
    prevHash: r.prev_hash,
    rowHash: r.row_hash,
  };
}

export interface AuditLedger {
  /** Appends rows (skipping ones already present); resolves once they are committed. */
  append(entries: readonly AuditEntry[]): Promise<void>;
  /** Rows already written for a message, for the pipeline's redelivery check. */
  rowsFor(envelopeId: string): Promise<Array<Pick<AuditRow, "sender" | "receiver" | "outcome">>>;
  /** Waits for queued appends. */
  close(): Promise<void>;
}

interface Pending {
  entries: readonly AuditEntry[];
  /** performance.now() when it was queued. */
  at: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

function rowKey(envelopeId: string, receiver: string, outcome: string): string {
  return `${envelopeId}\u0000${receiver}\u0000${outcome}`;
}

/**
 * The chain head is locked in the same round trip as BEGIN (`beginWith`). The statements sent
 * after it take their snapshot once the lock is held (READ COMMITTED), so they see every row
 * the previous holder committed.
 */
const LOCK_HEAD_SQL = "SELECT last_seq, last_hash FROM audit_chain_head FOR UPDATE";

/**
 * The batch of rows as one JSON parameter ($1): per row `[canonical, prev_hash, row_hash]`, the
 * canonical form being exactly the text the row hash covers (`canonical` above, hashes in hex).
 * That text is made anyway for the chain, so nothing is serialized twice; sixteen text-format
 * array parameters cost the router more CPU than the rest of the append (docs/benchmarks.md).
 * It is parsed once, as jsonb: each `->` on `json` parses the text again, sixteen times a row.
 */
const BATCH_CTE = `
  batch AS (
    SELECT (r->0->>0)::bigint AS s, r->0->>1 AS i, (r->0->>2)::timestamptz AS o, r->0->>3 AS e,
           r->0->>4 AS c, r->0->>5 AS snd, r->0->>6 AS rcv, r->0->>7 AS k, r->0->>8 AS p,
           r->0->>9 AS oc, r->0->>10 AS cd, decode(r->0->>11, 'hex') AS ph, decode(r->0->>12, 'hex') AS ch,
           ARRAY(SELECT jsonb_array_elements_text(r->0->13)) AS sens,
           decode(r->>1, 'hex') AS prv, decode(r->>2, 'hex') AS rh
    FROM jsonb_array_elements($1::jsonb) AS r
  )`;

/**
 * The optimistic append, run alone (autocommit) on the head this router last wrote: when the
 * chain head is still that one ($4, $5), inserts the rows and moves the head to the last of them
 * ($2, $3); otherwise it changes nothing. Returns whether it appended. A row already in the
 * ledger (a redelivery) fails the statement on the unique key, which undoes all of it; the batch
 * then goes the locked way. It reads nothing from the ledger, so its plan does not depend on the
 * ledger's size or statistics, and it is a named prepared statement: parsed and planned once per
 * connection, not for every batch (planning alone cost PostgreSQL ~0.5 ms a batch).
 */
const FAST_APPEND_SQL = `
  WITH ${BATCH_CTE}, head AS (
    UPDATE audit_chain_head SET last_seq = $2, last_hash = $3
    WHERE last_seq = $4 AND last_hash = $5
    RETURNING last_seq
  ), appended AS (
    INSERT INTO audit_ledger (${ROW_COLUMNS})
    SELECT s, i, o, e, c, snd, rcv, k, p, oc, cd, ph, ch, sens, prv, rh
    FROM batch WHERE EXISTS (SELECT 1 FROM head)
  )
  SELECT EXISTS (SELECT 1 FROM head) AS appended`;

/** Name of FAST_APPEND_SQL as a prepared statement (each connection prepares it on first use). */
const FAST_APPEND_STATEMENT = "hix_audit_append_v1";

/** SQLSTATE unique_violation. */
const UNIQUE_VIOLATION = "23505";

/**
 * The careful append, run after LOCK_HEAD_SQL on the head it read: when none of the rows is in
 * the ledger yet, inserts them all and moves the head ($4, $5 → $2, $3); otherwise it changes
 * nothing. Returns whether it appended, and the rows found present, which the caller leaves out
 * of the chain before it tries again.
 *
 * Rows already present are found by joining on all three columns of the unique key, which the
 * planner knows gives at most one row each, so it probes the index whether or not the table was
 * ever analyzed. (A filter on envelope_id alone looked to it, without statistics, like a
 * sizeable share of the table, and it read the whole ledger on every append.) It is planned for
 * each batch, never from a cached generic plan made when the ledger was small.
 */
const APPEND_SQL = `
  WITH ${BATCH_CTE}, present AS (
    SELECT l.envelope_id, l.receiver, l.outcome
    FROM batch JOIN audit_ledger l ON l.envelope_id = e AND l.receiver = rcv AND l.outcome = oc
  ), head AS (
    UPDATE audit_chain_head SET last_seq = $2, last_hash = $3
    WHERE last_seq = $4 AND last_hash = $5 AND NOT EXISTS (SELECT 1 FROM present)
    RETURNING last_seq
  ), appended AS (
    INSERT INTO audit_ledger (${ROW_COLUMNS})
    SELECT s, i, o, e, c, snd, rcv, k, p, oc, cd, ph, ch, sens, prv, rh
    FROM batch WHERE EXISTS (SELECT 1 FROM head)
  )
  SELECT EXISTS (SELECT 1 FROM head) AS appended,
         (SELECT json_agg(json_build_array(envelope_id, receiver, outcome)) FROM present) AS present`;

/** What APPEND_SQL returns: present rows are [envelope_id, receiver, outcome], null when none. */
interface AppendRow {
  appended: boolean;
  present: Array<[string, string, string]> | null;
}

interface ChainHead {
  seq: number;
  hash: Buffer;
}

/** Rows per transaction at most; a bigger queue is written in several. */
const MAX_BATCH = 500;

/**
 * How long the oldest queued row waits for company before its transaction starts (unless a full
 * batch is queued). Without the wait the next transaction starts as soon as the last one
 * commits, with whatever few rows arrived meanwhile; at 1,000 messages/s a 5 ms wait gathers
 * about 13 rows per transaction instead of 5, and PostgreSQL's CPU per message drops by a third
 * (docs/benchmarks.md). Under heavier load rows have waited that long by the time the previous
 * transaction commits, so nothing is added there. Deliveries are not held up: the pipeline
 * publishes before it audits, and only the ack waits.
 */
const DEFAULT_GROUP_WAIT_MS = 5;

export function createAuditLedger(options: {
  pool: pg.Pool;
  logger: Logger;
  newId: () => string;
  groupWaitMs?: number;
}): AuditLedger {
  const { pool, newId } = options;
  const groupWaitMs = options.groupWaitMs ?? DEFAULT_GROUP_WAIT_MS;
  const log = options.logger.child({ component: "audit" });
  let queue: Pending[] = [];
  let queuedRows = 0;
  let writing: Promise<void> | undefined;
  let waiting: NodeJS.Timeout | undefined;

  /** The chain head as this router last wrote it: the next batch is chained onto it. */
  let lastWritten: ChainHead | undefined;

  /** The entries not in `skip` chained onto `head`: the batch parameter, and the head after them. */
  const chain = (
    entries: readonly AuditEntry[],
    head: ChainHead,
    skip: ReadonlySet<string>,
  ): { json: string; rows: number; next: ChainHead } => {
    const seen = new Set(skip);
    let seq = head.seq;
    let prev = head.hash;
    const rows: string[] = []; // JSON of [canonical, prev_hash, row_hash]
    for (const entry of entries) {
      const key = rowKey(entry.envelopeId, entry.receiver, entry.outcome);
      if (seen.has(key)) continue;
      seen.add(key);
      const text = canonicalEntry(++seq, newId(), entry);
      const hash = hashCanonical(prev, text);
      rows.push(`[${text},"${prev.toString("hex")}","${hash.toString("hex")}"]`);
      prev = hash;
    }
    return { json: `[${rows.join(",")}]`, rows: rows.length, next: { seq, hash: prev } };
  };

  /**
   * One round trip, no lock taken first: the entries chained onto the head this router last
   * wrote. Returns the new head, or undefined when nothing was written because another replica
   * moved the head or a row is in the ledger already.
   */
  const appendFast = async (
    entries: readonly AuditEntry[],
    head: ChainHead,
  ): Promise<ChainHead | undefined> => {
    const { json, next } = chain(entries, head, new Set());
    try {
      const { rows } = await pool.query<{ appended: boolean }>({
        name: FAST_APPEND_STATEMENT,
        text: FAST_APPEND_SQL,
        values: [json, next.seq, next.hash, head.seq, head.hash],
      });
      return rows[0]!.appended ? next : undefined;
    } catch (err) {
      if ((err as { code?: unknown }).code === UNIQUE_VIOLATION) return undefined;
      throw toDbError(err, "audit append");
    }
  };

  /**
   * Under the head's row lock: rows already in the ledger are skipped. The append statement
   * checks for them after the lock and writes nothing if it finds any; then the chain is
   * recomputed without them and the statement repeats (a redelivery — rare — costs one more
   * round trip).
   */
  const appendLocked = async (entries: readonly AuditEntry[]): Promise<ChainHead> =>
    withTransaction(
      pool,
      async (client, begun) => {
        const row = begun[0] as { last_seq: string; last_hash: Buffer } | undefined;
        if (row === undefined)
          throw new Error("audit append: audit_chain_head has no row (migration 0001 not applied?)");
        const head = { seq: Number(row.last_seq), hash: row.last_hash };
        const present = new Set<string>();
        for (;;) {
          const { json, rows, next } = chain(entries, head, present);
          if (rows === 0) return head; // all present: nothing to add
          const { rows: result } = await client.query<AppendRow>({
            text: APPEND_SQL,
            values: [json, next.seq, next.hash, head.seq, head.hash],
          });
          const { appended, present: found } = result[0]!;
          if (appended) return next;
          if (found === null) throw new Error("audit append: the chain head moved under its lock");
          for (const [e, r, o] of found) present.add(rowKey(e, r, o));
        }
      },
      { beginWith: LOCK_HEAD_SQL },
    );

  const writeBatch = async (batch: Pending[]): Promise<void> => {
    const entries = batch.flatMap((p) => p.entries);
    // The first batch, or when another replica appended since or some rows are in already,
    // goes the locked way.
    const written = lastWritten === undefined ? undefined : await appendFast(entries, lastWritten);
    lastWritten = written ?? (await appendLocked(entries));
  };

  /**
   * Starts a transaction for what is queued once the oldest row has waited the group wait (rows
   * that queued up during the previous transaction usually have) or a full batch is waiting.
   */
  const kick = (): void => {
    if (writing !== undefined || queue.length === 0) return;
    const waited = performance.now() - queue[0]!.at;
    if (queuedRows < MAX_BATCH && waited < groupWaitMs) {
      waiting ??= setTimeout(() => {
        waiting = undefined;
        write();
      }, groupWaitMs - waited);
      return;
    }
    write();
  };

  const write = (): void => {
    if (waiting !== undefined) clearTimeout(waiting);
    waiting = undefined;
    if (writing !== undefined || queue.length === 0) return;
    const batch: Pending[] = [];
    let rows = 0;
    while (queue.length > 0 && rows < MAX_BATCH) {
      const next = queue.shift()!;
      batch.push(next);
      rows += next.entries.length;
    }
    queuedRows -= rows;
    writing = writeBatch(batch)
      .then(
        () => batch.forEach((p) => p.resolve()),
        (err: unknown) => {
          log.warn({ err, rows }, "audit append failed");
          batch.forEach((p) => p.reject(err));
        },
      )
      .finally(() => {
        writing = undefined;
        kick();
      });
  };

  return {
    append(entries) {
      if (entries.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        queue.push({ entries, at: performance.now(), resolve, reject });
        queuedRows += entries.length;
        kick();
      });
    },
    async rowsFor(envelopeId) {
      const { rows } = await pool.query<{ sender: string; receiver: string; outcome: AuditOutcomeText }>(
        "SELECT sender, receiver, outcome FROM audit_ledger WHERE envelope_id = $1",
        [envelopeId],
      );
      return rows;
    },
    async close() {
      write(); // what is waiting for company goes now
      while (writing !== undefined) await writing;
      queue = [];
      queuedRows = 0;
    },
  };
}

export interface VerifyResult {
  readonly ok: boolean;
  readonly rows: number;
  /** The first row found wrong, and what is wrong with it. */
  readonly broken?: { readonly seq: number; readonly id: string; readonly problem: string };
}

/** Recomputes the whole chain in seq order (streamed in pages); stops at the first fault. */
export async function verifyLedger(db: Pick<pg.Pool, "query">, pageSize = 5000): Promise<VerifyResult> {
  let prev = GENESIS_HASH;
  let expectedSeq = 1;
  let count = 0;
  for (;;) {
    const { rows } = await db.query<StoredRow>(
      `SELECT ${ROW_COLUMNS} FROM audit_ledger WHERE seq >= $1 ORDER BY seq LIMIT $2`,
      [expectedSeq, pageSize],
    );
    for (const stored of rows) {
      const row = fromStored(stored);
      const at = { seq: row.seq, id: row.id };
      if (row.seq !== expectedSeq)
        return { ok: false, rows: count, broken: { ...at, problem: `row ${expectedSeq} is missing` } };
      if (!row.prevHash.equals(prev))
        return {
          ok: false,
          rows: count,
          broken: { ...at, problem: "prev_hash does not match the row before (rows removed or reordered)" },
        };
      const recomputed = rowHash(prev, row);
      if (!recomputed.equals(row.rowHash))
        return {
          ok: false,
          rows: count,
          broken: { ...at, problem: "content does not match row_hash (the row was edited)" },
        };
      prev = row.rowHash;
      expectedSeq++;
      count++;
    }
    if (rows.length < pageSize) break;
  }
  const head = await db.query<{ last_seq: string; last_hash: Buffer }>(
    "SELECT last_seq, last_hash FROM audit_chain_head",
  );
  const h = head.rows[0];
  if (h !== undefined && (Number(h.last_seq) !== count || !h.last_hash.equals(prev))) {
    return {
      ok: false,
      rows: count,
      broken: {
        seq: Number(h.last_seq),
        id: "",
        problem: `chain head names row ${h.last_seq} but the ledger ends at row ${count} (rows cut from the end)`,
      },
    };
  }
  return { ok: true, rows: count };
}

export interface SearchCriteria {
  /** Sender or receiver. */
  readonly facility?: string;
  readonly patientHash?: Buffer;
  readonly since?: Date;
  readonly envelopeId?: string;
  readonly limit?: number;
}

export async function searchLedger(
  db: Pick<pg.Pool, "query">,
  criteria: SearchCriteria,
): Promise<AuditRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: (n: string) => string, value: unknown): void => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  if (criteria.facility !== undefined) add((n) => `(sender = ${n} OR receiver = ${n})`, criteria.facility);
  if (criteria.patientHash !== undefined) add((n) => `patient_ref_hash = ${n}`, criteria.patientHash);
  if (criteria.since !== undefined) add((n) => `occurred_at >= ${n}`, criteria.since);
  if (criteria.envelopeId !== undefined)
    add((n) => `(envelope_id = ${n} OR correlation_id = ${n})`, criteria.envelopeId);
  params.push(criteria.limit ?? 100);
  const { rows } = await db.query<StoredRow>(
    `SELECT ${ROW_COLUMNS} FROM audit_ledger ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
     ORDER BY seq LIMIT $${params.length}`,
    params,
  );
  return rows.map(fromStored);
}

/** A row as JSON for the CLI (hashes hex). */
export function auditRowToJson(row: AuditRow): Record<string, unknown> {
  return {
    seq: row.seq,
    id: row.id,
    occurredAt: row.occurredAt.toISOString(),
    envelopeId: row.envelopeId,
    correlationId: row.correlationId,
    sender: row.sender,
    receiver: row.receiver,
    kind: row.kind,
    purpose: row.purpose,
    outcome: row.outcome,
    code: row.code,
    patientRefHash: row.patientRefHash?.toString("hex") ?? null,
    contentHash: row.contentHash?.toString("hex") ?? null,
    sensitivity: row.sensitivity,
    rowHash: row.rowHash.toString("hex"),
  };
}
