import { projectTestConfig } from '../../vitest.shared.js';

export default projectTestConfig('issuance', { testTimeoutMs: 60_000 });
