// Publishing ca.crt and reading the token secret, on a file store (https against a real Vault: vault-tls.integration.test.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProviderError } from '../errors.js';
import { FileSecretStore } from '../secret-store/file-store.js';
import { publishCaBundle } from './ca-bundle.js';
import { secretTokenSource } from './token-source.js';

describe('ca.crt publication and the token secret', () => {
  let dir: string;
  let store: FileSecretStore;
  const ref = { namespace: 'fsm-system', name: 'fsm-ca-bundle' };
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'fsm-vault-parts-'));
    store = new FileSecretStore({ dataDir: dir });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the bundle, leaves it alone when equal, and replaces ca.crt (dropping a private.key) when Vault has another root', async () => {
    expect(await publishCaBundle(store, ref, 'ROOT-A\n')).toBe('created');
    expect(await publishCaBundle(store, ref, 'ROOT-A\n')).toBe('unchanged');
    const current = await store.get(ref);
    await store.update(ref, { 'ca.crt': Buffer.from('OLD'), 'private.key': Buffer.from('KEY') }, current?.resourceVersion ?? '');
    expect(await publishCaBundle(store, ref, 'ROOT-B\n')).toBe('updated');
    const after = await store.get(ref);
    expect(after?.data['ca.crt']?.toString()).toBe('ROOT-B\n');
    expect(after?.data['private.key']).toBeUndefined();
  });

  it('reads the token from the secret, and names the secret (never a token) when it is missing', async () => {
    const tokenRef = { namespace: 'fsm-system', name: 'vault-token' };
    const source = secretTokenSource(store, tokenRef, 'token');
    const missing = await source.read().catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ProviderError);
    expect(missing).toMatchObject({ code: 'CONFIGURATION_INVALID' });
    expect(missing instanceof Error ? missing.message : '').toContain('fsm-system/vault-token');
    await store.create(tokenRef, { token: Buffer.from('s.abc\n') });
    await expect(source.read()).resolves.toBe('s.abc');
  });
});
