export { VaultEmulator } from './emulator.js';
export type { RecordedRequest, VaultEmulatorOptions } from './emulator.js';
export type { NewTokenOptions } from './sys-routes.js';
export { VAULT_IMAGE, detectContainerRuntime, startVaultContainer } from './container.js';
export type { VaultContainer } from './container.js';
