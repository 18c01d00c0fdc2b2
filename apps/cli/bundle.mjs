// Builds the `fsm-certs` command: src/main.ts and our workspace libs (their TypeScript sources,
// through the `development` export condition, so no `tsc -b` is needed first) bundled into
// dist/fsm-certs.js. Code splitting keeps every dynamic import() a separate chunk, so `--help`
// parses a few KB while zod, x509 and the providers load only with the commands that use them.
// zod is bundled too: as separate ES modules it is ~100 files, and resolving and loading them
// cost more than parsing one chunk (x509 needs it, so every certificate command loads it). Other
// third-party packages stay imports resolved from node_modules at run time — CommonJS ones (yaml,
// the Kubernetes client, node-vault) would need a require() shim inside an ES module bundle — which
// is fine: the command only runs inside this repository (bin/fsm-certs.js), where npm ci put them.
// Run by the root `prepare` script (so `npm ci` leaves a working node_modules/.bin/fsm-certs),
// by `npm run build` and by `npm run build:cli`.
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
// Beside tsc's output in dist/: connection.ts finds the repository root three directories above
// the running file, so the bundle must sit at that depth.
const outdir = path.join(here, 'dist');
const ours = /^(fsm-certs|chunk-[A-Z0-9]+)\.js(\.map)?$/;

const BUNDLED_PACKAGES = ['zod'];

/** Our sources and libs, plus BUNDLED_PACKAGES, are bundled; any other bare import is not. */
const thirdPartyExternal = {
  name: 'third-party-external',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      const name = args.path.startsWith('@') ? args.path.split('/').slice(0, 2).join('/') : args.path.split('/')[0];
      if (name === '@fsm-certs' || name.startsWith('@fsm-certs/') || args.path.startsWith('node:') || BUNDLED_PACKAGES.includes(name)) return undefined;
      return { path: args.path, external: true };
    });
  },
};

// Chunk names are content hashes: remove the last build's so stale ones do not pile up.
const previous = await readdir(outdir).catch(() => []);
await Promise.all(previous.filter((name) => ours.test(name)).map((name) => rm(path.join(outdir, name), { force: true })));
let build;
try {
  ({ build } = await import('esbuild'));
} catch (error) {
  // `npm ci --omit=dev` (the app images) runs `prepare` too, without the devDependencies: there is
  // no CLI to build there. Anywhere else a missing esbuild is an error.
  if (process.argv.includes('--if-esbuild-installed') && error?.code === 'ERR_MODULE_NOT_FOUND') {
    console.log('fsm-certs CLI bundle skipped: esbuild is not installed (npm ci --omit=dev)');
    process.exit(0);
  }
  throw error;
}

await build({
  absWorkingDir: here,
  entryPoints: { 'fsm-certs': 'src/main.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  conditions: ['development'],
  chunkNames: 'chunk-[hash]',
  plugins: [thirdPartyExternal],
  sourcemap: 'linked',
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
});
