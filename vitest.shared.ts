// Shared vitest settings for every project. Each project's vitest.config.ts calls
// projectTestConfig(name); results also go to .vitest-results/<name>.json so .ci/run can add
// up every project's counts into one "N passed, N failed" line.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = path.dirname(fileURLToPath(import.meta.url));

export function projectTestConfig(name: string, options: { testTimeoutMs?: number } = {}) {
  return defineConfig({
    // Workspace libs resolve to their TypeScript sources through the `development` export
    // condition. vitest hands ssr conditions to the test process as `node --conditions`, so
    // `import` must not be among them: CommonJS require() inside express would then load
    // dual packages (is-promise) as ESM and break. Node adds import/require by itself.
    resolve: { conditions: ['development', 'node', 'default'] },
    ssr: { resolve: { conditions: ['development', 'node', 'default'], externalConditions: ['development'] } },
    test: {
      name,
      environment: 'node',
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: options.testTimeoutMs ?? 30_000,
      hookTimeout: 60_000,
      pool: 'forks',
      reporters: ['default', ['json', { outputFile: path.join(root, '.vitest-results', `${name}.json`) }]],
    },
  });
}
