export { exportLines, startDevVault } from './dev-vault.js';
export type { DevVault, DevVaultOptions } from './dev-vault.js';
