import { projectTestConfig } from '../../vitest.shared.js';

// Each test spawns `npm run dev:vault` (tsx) which starts and bootstraps a real Vault: on a busy
// 2-core machine that alone can take most of the default 30 s.
export default projectTestConfig('dev-vault', { testTimeoutMs: 90_000 });
