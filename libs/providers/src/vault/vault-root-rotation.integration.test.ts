// A root rotated inside Vault (`pki/root/rotate/internal`, then `pki/root/replace default=<new>`)
// reaches the trust bundle and the CA-bundle secret with no restart, while leaves of the old root
// stay verifiable — against a real Vault-API server.
import { opensslVerify } from '@fsm-certs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueRequest, startVaultSuite } from './vault-target.test-helpers.js';
import type { VaultSuite } from './vault-target.test-helpers.js';

const suite: VaultSuite = await startVaultSuite({ suite: 'vault root rotation' });
const { admin, mount, store, caBundle } = suite;

function issuerIdOf(body: unknown): string {
  const id = typeof body === 'object' && body !== null && 'data' in body && typeof body.data === 'object' && body.data !== null && 'issuer_id' in body.data ? body.data.issuer_id : undefined;
  if (typeof id !== 'string') throw new Error(`no issuer_id in ${JSON.stringify(body)}`);
  return id;
}

describe(`the trust bundle across a root rotation inside ${suite.target.description}`, () => {
  beforeAll(async () => {
    await suite.bootstrap();
  });
  afterAll(() => suite.close());

  it('adds the new root to the bundle and ca.crt once Vault signs with it, keeping the old root for its live leaves', async () => {
    const provider = await suite.start();
    const oldLeaf = await provider.issue(issueRequest('before-rotation.example'));
    const [oldRoot] = (await provider.trustBundle()).trustedCasPem;

    const rotated = await admin.call('POST', `${mount}/root/rotate/internal`, { common_name: 'fsm.root.next', key_type: 'ec', ttl: '87600h', issuer_name: 'next' });
    await admin.call('POST', `${mount}/root/replace`, { default: issuerIdOf(rotated) });
    const newLeaf = await provider.issue(issueRequest('after-rotation.example'));
    expect(newLeaf.issuerId).not.toBe(oldLeaf.issuerId);

    const bundle = await provider.trustBundle();
    expect(bundle.trustedCasPem).toHaveLength(2);
    expect(bundle.trustedCasPem).toContain(oldRoot);
    expect(bundle.issuingCaPem).toBe(newLeaf.issuingCaPem);
    // What a workload reads from the published secret verifies both generations of leaves.
    const caCrt = (await store.get(caBundle))?.data['ca.crt']?.toString('utf8') ?? '';
    expect(opensslVerify(newLeaf.certificatePem, caCrt).ok).toBe(true);
    expect(opensslVerify(oldLeaf.certificatePem, caCrt).ok).toBe(true);
  });

  it('drops a root from the bundle once its issuer is deleted from Vault', async () => {
    const provider = await suite.start();
    const before = (await provider.trustBundle()).trustedCasPem;
    expect(before).toHaveLength(2);
    const list = await admin.call('LIST', `${mount}/issuers`);
    const info = (list as { data: { key_info: Record<string, { is_default: boolean }> } }).data.key_info;
    const old = Object.entries(info).find(([, v]) => !v.is_default)?.[0];
    if (old === undefined) throw new Error('no non-default issuer to delete');
    await admin.call('DELETE', `${mount}/issuer/${old}`);
    const after = await provider.trustBundle();
    expect(after.trustedCasPem).toHaveLength(1);
    const caCrt = (await store.get(caBundle))?.data['ca.crt']?.toString('utf8') ?? '';
    expect(caCrt.match(/BEGIN CERTIFICATE/g)).toHaveLength(1);
  });
});
