export { VaultEmulator } from './emulator.js';
export type { RecordedRequest, VaultEmulatorOptions } from './emulator.js';
export type { NewTokenOptions } from './sys-routes.js';
