// Where the key-encryption key comes from, and that every replica ends up with the same one.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileSecretStore } from '@fsm-certs/providers';
import { generateKek, openPrivateKey, sealPrivateKey } from '@fsm-certs/queue';
import { IssuanceError } from './errors.js';
import { KEK_SECRET_KEY, KEK_SECRET_NAME, loadOrCreateKek } from './kek.js';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../..');

/** True when two KEKs are the same key: one opens what the other sealed. */
function sameKey(a: Parameters<typeof sealPrivateKey>[0], b: Parameters<typeof sealPrivateKey>[0]): boolean {
  try {
    return openPrivateKey(b, sealPrivateKey(a, 'secret', 'cn', '01'), 'cn', '01') === 'secret';
  } catch {
    return false;
  }
}

describe('loadOrCreateKek', () => {
  let dataDir: string;
  let store: FileSecretStore;

  beforeEach(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'fsm-kek-'));
    store = new FileSecretStore({ dataDir });
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('uses FSM_KEY_ENCRYPTION_KEY when set and writes nothing to the store', async () => {
    const configured = generateKek();
    const loaded = await loadOrCreateKek({ configured: configured.base64, store, namespace: 'fsm-system' });
    expect(loaded.source).toBe('config');
    expect(sameKey(loaded.kek, configured.kek)).toBe(true);
    expect(await store.get({ namespace: 'fsm-system', name: KEK_SECRET_NAME })).toBeUndefined();
  });

  it('refuses a configured key that is not 32 bytes, without echoing it', async () => {
    const attempt = loadOrCreateKek({ configured: 'c2hvcnQta2V5', store, namespace: 'fsm-system' });
    await expect(attempt).rejects.toBeInstanceOf(IssuanceError);
    await expect(attempt).rejects.toThrow(/FSM_KEY_ENCRYPTION_KEY/);
    await expect(attempt).rejects.not.toThrow(/c2hvcnQta2V5/);
  });

  it('creates one in the file store when unset, then loads that same one', async () => {
    const first = await loadOrCreateKek({ configured: undefined, store, namespace: 'fsm-system' });
    const second = await loadOrCreateKek({ configured: '', store: new FileSecretStore({ dataDir }), namespace: 'fsm-system' });
    expect(first.source).toBe('created');
    expect(second.source).toBe('secret-store');
    expect(sameKey(first.kek, second.kek)).toBe(true);
  });

  it('never invents a key outside the embedded file-store mode, and says how to create the Secret', async () => {
    await expect(loadOrCreateKek({ configured: undefined, store, namespace: 'fsm-system', allowCreate: false })).rejects.toThrow(
      'kubectl create secret generic -n fsm-system fsm-certs-kek --from-literal=kek="$(openssl rand -base64 32)"',
    );
    await expect(loadOrCreateKek({ configured: undefined, namespace: 'fsm-system' })).rejects.toThrow(/openssl rand -base64 32/);
  });

  it('names the secret when the stored key is unusable', async () => {
    await store.create({ namespace: 'fsm-system', name: KEK_SECRET_NAME }, { [KEK_SECRET_KEY]: Buffer.from('garbage') });
    await expect(loadOrCreateKek({ configured: undefined, store, namespace: 'fsm-system' })).rejects.toThrow(/fsm-system\/fsm-certs-kek/);
  });

  it('gives four processes racing to create it one and the same key', async () => {
    const script = path.join(here, 'load-kek-child.test-helpers.ts');
    const outputs = await Promise.all(
      Array.from({ length: 4 }, () =>
        run(process.execPath, ['--import', 'tsx', '--conditions=development', script, dataDir], { cwd: repoRoot }).then((r) => JSON.parse(r.stdout) as { source: string; sealed: string }),
      ),
    );
    expect(outputs.filter((o) => o.source === 'created')).toHaveLength(1);
    const winner = await loadOrCreateKek({ configured: undefined, store, namespace: 'fsm-system' });
    for (const o of outputs) expect(openPrivateKey(winner.kek, o.sealed, 'cn', '01')).toBe('probe');
  }, 60_000);
});
