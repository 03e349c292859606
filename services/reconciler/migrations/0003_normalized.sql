-- The record as @hix/linkage normalizes it (NormalizedRecord: name codes, nickname roots, parsed
-- birth date, digits-only phone …), written with every version of `record`. Incremental matching
-- reads it for each candidate instead of normalizing the candidate's record again on every match
-- (src/matcher.ts). NULL for rows written before this migration: those are normalized when read.
-- A change to @hix/linkage normalization must come with a migration that sets it back to NULL
-- (or recomputes it). PHI, like `record`.
ALTER TABLE mpi_records ADD COLUMN normalized jsonb;
