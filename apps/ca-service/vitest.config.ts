import { projectTestConfig } from '../../vitest.shared.js';

export default projectTestConfig('ca-service', { testTimeoutMs: 60_000 });
