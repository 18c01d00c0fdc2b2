// Child process for the KEK race test: loads (or creates) the KEK from the file store under
// argv[2] and prints a probe sealed under it, so the parent can check all children agree.
import { FileSecretStore } from '@fsm-certs/providers';
import { sealPrivateKey } from '@fsm-certs/queue';
import { loadOrCreateKek } from './kek.js';

const { kek, source } = await loadOrCreateKek({
  configured: undefined,
  store: new FileSecretStore({ dataDir: process.argv[2] ?? '' }),
  namespace: 'fsm-system',
});
console.log(JSON.stringify({ source, sealed: sealPrivateKey(kek, 'probe', 'cn', '01') }));
