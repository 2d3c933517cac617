export { openDatabase, databaseError, databaseExists } from './open-database.js';
export type { Db, MigrationSummary, OpenOptions } from './open-database.js';
export { RunStore } from './run-store.js';
export type { NewRun, RunRecord, RunTimer, EventRecord, Checkpoint } from './run-store.js';
export { RunLeases, LEASE_STALE_AFTER_MS } from './run-lease.js';
export type { LeaseHolder, LeaseRecord, AcquiredLease } from './run-lease.js';
export { SCHEMA_VERSION, APPLICATION_ID } from './migrations.js';
