#!/usr/bin/env node
// The `fsm-certs` command that npm links into node_modules/.bin. npm links a bin only if its file
// exists when it installs, so this small committed file is the bin, and it loads the bundle that
// `npm ci` builds (the root `prepare` script runs apps/cli/bundle.mjs).
import { existsSync } from 'node:fs';

const bundle = new URL('../dist/fsm-certs.js', import.meta.url);
try {
  await import(bundle.href);
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || existsSync(bundle)) throw error;
  process.stderr.write(
    'fsm-certs: NOT_BUILT: the CLI is not built (apps/cli/dist/fsm-certs.js is missing); run `npm run build:cli` ' +
      '(npm ci does it, unless run with --ignore-scripts)\n',
  );
  process.exitCode = 1;
}
