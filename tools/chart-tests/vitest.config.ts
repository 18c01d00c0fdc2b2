import { projectTestConfig } from '../../vitest.shared.js';

// Each test renders the chart with helm (a child process); the cluster suite runs the apps.
export default projectTestConfig('chart-tests', { testTimeoutMs: 120_000 });
