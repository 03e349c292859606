-- Router schema: the facility directory, the hash-chained audit ledger, and record requests
-- tracked until every holder answered or the deadline passed. Applied by @hix/db migrate()
-- (table router_migrations) under an advisory lock, so replicas starting together take turns.

-- ---------------------------------------------------------------- facility directory
-- One row per facility (hix.v1.Facility). Nested parts that the router reads whole
-- (contact, disclosure policy) are proto3 JSON; what it filters on is a column.
CREATE TABLE facilities (
  id                 text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]*$'),
  name               text NOT NULL,
  status             text NOT NULL CHECK (status IN ('active', 'suspended')),
  contact            jsonb NOT NULL DEFAULT '{}',
  formats            text[] NOT NULL DEFAULT '{}',
  signing_public_key bytea,
  signing_key_id     text NOT NULL DEFAULT '',
  signing_algorithm  text NOT NULL DEFAULT '',
  disclosure_policy  jsonb NOT NULL DEFAULT '{}',
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);

-- Routers cache the directory and LISTEN on this channel; the payload is the facility id.
CREATE FUNCTION facilities_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('hix_directory', COALESCE(NEW.id, OLD.id));
  RETURN NULL;
END $$;

CREATE TRIGGER facilities_changed
  AFTER INSERT OR UPDATE OR DELETE ON facilities
  FOR EACH ROW EXECUTE FUNCTION facilities_notify();

-- ---------------------------------------------------------------- audit ledger
-- Append-only: one row per disclosure (or refused disclosure). row_hash = SHA-256(prev_hash ||
-- canonical row content) — see src/audit-ledger.ts for the canonical form. seq is dense and
-- assigned under the chain head's row lock, so concurrent routers keep one chain.
CREATE TABLE audit_ledger (
  seq              bigint PRIMARY KEY,
  id               text NOT NULL UNIQUE,
  occurred_at      timestamptz NOT NULL,
  envelope_id      text NOT NULL,
  correlation_id   text NOT NULL,
  sender           text NOT NULL,
  receiver         text NOT NULL,
  kind             text NOT NULL,
  purpose          text NOT NULL,
  outcome          text NOT NULL CHECK (outcome IN ('disclosed', 'denied', 'rejected', 'failed')),
  code             text NOT NULL,
  patient_ref_hash bytea,
  content_hash     bytea,
  sensitivity      text[] NOT NULL DEFAULT '{}',
  prev_hash        bytea NOT NULL,
  row_hash         bytea NOT NULL,
  -- Idempotency of the audit step: one row per message, destination and outcome, however often
  -- the message is redelivered (a message refused, then replayed and delivered, has two rows).
  UNIQUE (envelope_id, receiver, outcome)
);
CREATE INDEX audit_ledger_sender ON audit_ledger (sender, occurred_at);
CREATE INDEX audit_ledger_receiver ON audit_ledger (receiver, occurred_at);
CREATE INDEX audit_ledger_patient ON audit_ledger (patient_ref_hash) WHERE patient_ref_hash IS NOT NULL;
CREATE INDEX audit_ledger_occurred ON audit_ledger (occurred_at);

-- The single-row chain head: appends lock it (SELECT … FOR UPDATE), which serializes them.
CREATE TABLE audit_chain_head (
  one       boolean PRIMARY KEY DEFAULT true CHECK (one),
  last_seq  bigint NOT NULL,
  last_hash bytea NOT NULL
);
INSERT INTO audit_chain_head (one, last_seq, last_hash) VALUES (true, 0, '\x0000000000000000000000000000000000000000000000000000000000000000');

-- Append-only in the database too: updates and deletes are refused. (A superuser can still
-- disable the trigger; the hash chain is what makes such an edit detectable.)
CREATE FUNCTION audit_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_ledger is append-only (% refused)', TG_OP;
END $$;

CREATE TRIGGER audit_ledger_no_update
  BEFORE UPDATE OR DELETE ON audit_ledger
  FOR EACH ROW EXECUTE FUNCTION audit_ledger_append_only();

-- ---------------------------------------------------------------- record requests
CREATE TABLE record_requests (
  envelope_id    text PRIMARY KEY,
  requester      text NOT NULL,
  correlation_id text NOT NULL,
  purpose        text NOT NULL,
  deadline       timestamptz NOT NULL,
  status         text NOT NULL CHECK (status IN ('open', 'complete', 'expired')),
  created_at     timestamptz NOT NULL DEFAULT now(),
  closed_at      timestamptz
);
-- What the sweeper scans: open requests by deadline.
CREATE INDEX record_requests_open ON record_requests (deadline) WHERE status = 'open';

CREATE TABLE request_holders (
  request_id         text NOT NULL REFERENCES record_requests (envelope_id),
  holder             text NOT NULL,
  state              text NOT NULL CHECK (state IN ('pending', 'records', 'no_match', 'denied', 'expired')),
  answer_envelope_id text,
  updated_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (request_id, holder)
);
