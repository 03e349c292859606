-- The master patient index (MPI). Source records as facilities announced them, their blocking
-- keys (indexed: incremental matching looks candidates up by key, never scans), links between
-- records with score, rule version and explanation, enterprise patient ids, the decision events
-- that made and unmade links (append-only, replayable), the review queue and idempotency keys.

-- One row per (facility, local patient id): the latest demographics, as a linkage record.
CREATE TABLE mpi_records (
  id            bigserial PRIMARY KEY,
  facility_id   text NOT NULL,
  local_id      text NOT NULL,
  -- @hix/linkage LinkageRecord (PHI: stays in this database, never in logs or alerts).
  record        jsonb NOT NULL,
  version       integer NOT NULL DEFAULT 1,
  -- Enterprise patient id: records joined by active links share it (a connected component).
  enterprise_id text NOT NULL,
  -- Merged away by the facility (HL7 v2 ADT^A40 MRG-1): kept for history, no longer a holder.
  retired       boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (facility_id, local_id)
);
CREATE INDEX mpi_records_enterprise ON mpi_records (enterprise_id);

-- Blocking keys, `<pass>:<key>` (the passes of @hix/linkage DEFAULT_PASSES). The primary key
-- (key, record_id) makes a candidate lookup an index-only range scan.
CREATE TABLE mpi_blocking_keys (
  key       text NOT NULL,
  record_id bigint NOT NULL REFERENCES mpi_records (id) ON DELETE CASCADE,
  PRIMARY KEY (key, record_id)
);
CREATE INDEX mpi_blocking_keys_record ON mpi_blocking_keys (record_id);

-- Decisions, append-only: automatic links, review decisions, A40 merges, record changes.
-- seq orders them for replay; links and alerts point back at the event that made them.
CREATE TABLE mpi_events (
  seq          bigserial PRIMARY KEY,
  event_id     text NOT NULL UNIQUE,
  kind         text NOT NULL CHECK (kind IN
                 ('record', 'auto-link', 'review-link', 'a40-merge', 'unlink', 'not-duplicate', 'defer')),
  record_a     bigint REFERENCES mpi_records (id),
  record_b     bigint REFERENCES mpi_records (id),
  rule_version text,
  score        double precision,
  -- Who: 'reconciler' for automatic decisions, the reviewer's user id otherwise.
  actor        text NOT NULL,
  -- Why: free text from a reviewer, or the rule's summary.
  reason       text NOT NULL DEFAULT '',
  alert_id     text,
  -- Envelope that caused it (automatic decisions).
  envelope_id  text,
  detail       jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at   timestamptz NOT NULL DEFAULT now()
);

-- Links between two records (record_a < record_b). Unlinking deactivates, never deletes.
CREATE TABLE mpi_links (
  id             bigserial PRIMARY KEY,
  record_a       bigint NOT NULL REFERENCES mpi_records (id),
  record_b       bigint NOT NULL REFERENCES mpi_records (id),
  score          double precision NOT NULL,
  origin         text NOT NULL CHECK (origin IN ('auto', 'review', 'a40')),
  rule_version   text NOT NULL,
  -- The linkage explanation: field levels and weights, guards (no values).
  reason         jsonb NOT NULL,
  active         boolean NOT NULL DEFAULT true,
  event_id       text NOT NULL REFERENCES mpi_events (event_id),
  undone_by      text REFERENCES mpi_events (event_id),
  created_at     timestamptz NOT NULL DEFAULT now(),
  CHECK (record_a < record_b)
);
CREATE UNIQUE INDEX mpi_links_active_pair ON mpi_links (record_a, record_b) WHERE active;
CREATE INDEX mpi_links_b ON mpi_links (record_b) WHERE active;

-- Pairs a reviewer said are different people (or unlinked): never proposed or linked again.
CREATE TABLE mpi_not_duplicate (
  record_a  bigint NOT NULL REFERENCES mpi_records (id),
  record_b  bigint NOT NULL REFERENCES mpi_records (id),
  event_id  text NOT NULL REFERENCES mpi_events (event_id),
  PRIMARY KEY (record_a, record_b),
  CHECK (record_a < record_b)
);

-- The review queue; also the outbox of IdentityAlert envelopes (published_at).
CREATE TABLE mpi_alerts (
  alert_id      text PRIMARY KEY,
  kind          text NOT NULL CHECK (kind IN ('duplicate', 'cross-facility-link', 'conflict')),
  record_a      bigint NOT NULL REFERENCES mpi_records (id),
  record_b      bigint NOT NULL REFERENCES mpi_records (id),
  score         double precision NOT NULL,
  -- Names fields, never their values (travels to facilities).
  reason        text NOT NULL,
  -- Whether the reconciler linked the pair itself (a `match`) or left it to a reviewer.
  auto_linked   boolean NOT NULL,
  rule_version  text NOT NULL,
  status        text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'decided')),
  decided_by    text REFERENCES mpi_events (event_id),
  raised_at     timestamptz NOT NULL DEFAULT now(),
  published_at  timestamptz
);
-- One open alert per kind and pair: a record announced again does not queue the same question twice.
CREATE UNIQUE INDEX mpi_alerts_open_pair ON mpi_alerts (kind, record_a, record_b) WHERE status = 'open';
CREATE INDEX mpi_alerts_unpublished ON mpi_alerts (raised_at) WHERE published_at IS NULL;

-- Envelope ids already applied (recorded in the same transaction as their effect).
CREATE TABLE mpi_processed (
  envelope_id  text PRIMARY KEY,
  processed_at timestamptz NOT NULL DEFAULT now()
);
