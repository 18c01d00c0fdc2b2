// Run as a separate process by the cross-process Tresor race test:
//   node race-child.mjs <dataDir> <id>   (this file bundled by esbuild, see tresor-start.test.ts)
// Prints "ready", waits until <dataDir>/go exists (so all processes race at the same moment),
// starts Tresor on the shared file store and prints one JSON line with the outcome.
import { existsSync, watch } from 'node:fs';
import path from 'node:path';
import { FileSecretStore } from './secret-store/file-store.js';
import { TresorProvider } from './tresor/tresor-provider.js';

const [dataDir, id] = process.argv.slice(2);
if (dataDir === undefined || id === undefined) throw new Error('usage: race-child <dataDir> <id>');
const store = new FileSecretStore({ dataDir });
console.log('ready');
const go = path.join(dataDir, 'go');
await new Promise<void>((resolve) => {
  const watcher = watch(dataDir, check);
  function check(): void {
    if (!existsSync(go)) return;
    watcher.close();
    resolve();
  }
  // Also once the watch is in place, so a file made before it is not missed.
  check();
});
const provider = await TresorProvider.start({ store, namespace: 'fsm-system', secretName: 'fsm-ca-bundle' });
console.log(JSON.stringify({ id, created: provider.createdRoot, fingerprint: provider.issuer.fingerprint }));
