-- Incremental matching reads each neighbourhood record's not-duplicate partners in one
-- statement (src/mpi-store.ts neighborhood): record_a is the primary key's leading column,
-- record_b needs its own index so that side is an index scan too, not a table scan.
CREATE INDEX mpi_not_duplicate_b ON mpi_not_duplicate (record_b);
