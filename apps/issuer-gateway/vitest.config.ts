import { projectTestConfig } from '../../vitest.shared.js';

const config = projectTestConfig('issuer-gateway');
// vitest hands ssr.resolve.conditions to the test process as `node --conditions ...`. With
// `import` among them, CommonJS `require()` inside express's router resolves dual packages
// (is-promise) to their ESM build and express breaks; Node adds import/require itself.
if (config.ssr?.resolve?.conditions !== undefined) {
  config.ssr.resolve.conditions = config.ssr.resolve.conditions.filter((c) => c !== 'import');
}

export default config;
