import { projectTestConfig } from '../../vitest.shared.js';

export default projectTestConfig('rotation-worker', { testTimeoutMs: 60_000 });
