export { recoveryMachine, MACHINE_VERSION } from './recovery.machine.js';
export type { RecoveryMachine } from './recovery.machine.js';
export * from './recovery.types.js';
export * from './recovery.guards.js';
export { KB_STEPS } from './recovery.kb-steps.js';
export type { KbStep } from './recovery.kb-steps.js';
export { positionOf, isRecoveryState } from './recovery.snapshot.js';
export type { RecoverySnapshot, RecoveryPosition } from './recovery.snapshot.js';
export { DEFINITION_MIGRATIONS, migrateSnapshot } from './definition-migrations.js';
