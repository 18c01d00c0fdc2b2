import { projectTestConfig } from '../../vitest.shared.js';

// End-to-end suites start real processes; give them room.
export default projectTestConfig('stack', { testTimeoutMs: 120_000 });
