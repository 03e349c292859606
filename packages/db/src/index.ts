export {
  DbError,
  DbQueryError,
  MigrationChangedError,
  MigrationError,
  MigrationFailedError,
  isRetryableSqlState,
  sqlStateOf,
  toDbError,
} from "./errors.js";
export {
  migrate,
  readMigrations,
  type MigrateOptions,
  type MigrateResult,
  type MigrationFile,
} from "./migrate.js";
export { createPool, type Pool, type PoolClient, type PoolOptions } from "./pool.js";
export { withTransaction, type TransactionOptions } from "./transaction.js";
