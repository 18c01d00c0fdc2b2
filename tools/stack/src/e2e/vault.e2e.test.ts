// The system with CERT_MANAGER=vault: vault-bootstrap prepares a real Vault-API server the way
// deploy-vault.sh does, then gateway + ca-service + rotation-worker issue through its PKI. The
// Vault is OpenBao over https with raft storage (see startVaultTarget), so it can be stopped and
// started again with its PKI intact.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayRequestError } from '@fsm-certs/client';
import { DEFAULT_RETRY_POLICY } from '@fsm-certs/providers';
import { VaultAdmin, eventually, opensslKeyMatches, opensslVerify, opensslX509, startVaultTarget } from '@fsm-certs/testing';
import type { VaultTarget } from '@fsm-certs/testing';
import { createCsr, exportPrivateKeyPem, generateKeyPair } from '@fsm-certs/x509';
import { repoRoot } from '../app-process.js';
import { startHarness, type Harness } from './harness.js';

const vault: VaultTarget = await startVaultTarget({ tls: true, storage: 'disk', needsFaults: true, suite: 'stack vault e2e' });
const faults = vault.faults;

describe(`the system with the Vault provider (${vault.description})`, () => {
  let h: Harness;
  let rootPem: string;
  /** The ca-service's JSON log lines (warn and up), to count the Vault calls a request caused. */
  const caServiceLines: string[] = [];

  beforeAll(async () => {
    expect(vault.address).toMatch(/^https:/);
    const vaultEnv = { VAULT_ADDR: vault.address, VAULT_TOKEN: vault.rootToken, ...(vault.caFile === undefined ? {} : { VAULT_CACERT: vault.caFile }) };
    await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--conditions=development', path.join(repoRoot(), 'apps/vault-bootstrap/src/main.ts')],
      { cwd: repoRoot(), env: { ...process.env, ...vaultEnv } },
    );
    h = await startHarness({
      env: { CERT_MANAGER: 'vault', ...vaultEnv, VAULT_ROLE: 'fsm', GATEWAY_ISSUE_TIMEOUT: '60s' },
      onLine: (app, line) => {
        if (app === 'ca-service') caServiceLines.push(line);
      },
    });
    rootPem = await h.client.trustBundlePem();
  }, 150_000);
  afterAll(async () => {
    await h?.close();
    await vault.close();
  });

  it('serves the Vault root (fsm.root) as the trust bundle', () => {
    expect(opensslX509(rootPem, ['-subject'])).toMatch(/fsm\.root/);
  });

  it('issues through pki/issue with a server key and through pki/sign from a CSR, both verified by openssl', async () => {
    const serverKey = await h.client.issue({ commonName: 'bookstore-v2.bookstore.cluster.local', validity: '1h30m' });
    expect(serverKey.privateKey).toBeDefined();
    expect(opensslVerify(serverKey.certificate, rootPem, { chainPem: serverKey.chain }).ok).toBe(true);
    // The requested validity is sent exactly (not truncated to whole hours).
    const lifetimeMs = Date.parse(serverKey.notAfter) - Date.parse(serverKey.notBefore);
    expect(Math.abs(lifetimeMs - 90 * 60_000)).toBeLessThan(2 * 60_000);

    const keyPair = generateKeyPair('ecdsa-p256');
    const csr = createCsr({ commonName: 'ignored.example', keyPair });
    const signed = await h.client.issue({ commonName: 'bookbuyer.bookbuyer.cluster.local', csr });
    expect(signed.privateKey).toBeUndefined();
    expect(opensslVerify(signed.certificate, rootPem, { chainPem: signed.chain }).ok).toBe(true);
    // Signed by pki/sign: the certificate carries the CSR's key.
    expect(opensslKeyMatches(signed.certificate, exportPrivateKeyPem(keyPair.privateKey))).toBe(true);
  });

  it('answers 503 with Retry-After for new names while Vault is down after one round of Vault retries (none stacked on top), keeps serving existing certs, and recovers', async () => {
    if (faults === undefined) throw new Error(`${vault.description} cannot be stopped`);
    const existing = await h.client.issue({ commonName: 'reviews.bookstore.cluster.local' });
    await faults.stop();
    try {
      const from = caServiceLines.length;
      const refused = await h.client.issue({ commonName: 'during-outage.bookstore.cluster.local' }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(GatewayRequestError);
      expect((refused as GatewayRequestError).status).toBe(503);
      expect((refused as GatewayRequestError).retryAfterSeconds).toBeGreaterThan(0);
      // The answer came after exactly one round of the Vault client's attempts: the job was not
      // retried on top of them (it used to be, five times over, ~16 s before the 503). The last
      // attempt's log line travels through a pipe and may reach us after the 503 does: wait for
      // the round to be logged, then check that nothing more came.
      const attempts = (): string[] => caServiceLines.slice(from).filter((l) => l.includes('vault request failed') && l.includes('"path":"pki/issue/fsm"'));
      await eventually(async () => (attempts().length >= DEFAULT_RETRY_POLICY.maxAttempts ? true : undefined), 30_000, 'the round of Vault attempts to be logged');
      expect(attempts()).toHaveLength(DEFAULT_RETRY_POLICY.maxAttempts);
      expect((await h.client.get('reviews.bookstore.cluster.local')).serialNumber).toBe(existing.serialNumber);
    } finally {
      await faults.start();
    }
    const recovered = await h.client.issue({ commonName: 'during-outage.bookstore.cluster.local' });
    expect(opensslVerify(recovered.certificate, rootPem, { chainPem: recovered.chain }).ok).toBe(true);
  }, 120_000);

  it('answers 400 naming the role\'s key type when asked for RSA from the EC role, and never hands the EC certificate to a later RSA request', async () => {
    const name = 'key-truth.bookstore.cluster.local';
    const refused = await h.client.issue({ commonName: name, keyAlgorithm: 'rsa-2048' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(GatewayRequestError);
    expect((refused as GatewayRequestError).status).toBe(400);
    expect((refused as GatewayRequestError).message).toContain('issues ec');
    const ec = await h.client.issue({ commonName: name, keyAlgorithm: 'ecdsa-p256' });
    expect(opensslX509(ec.certificate, ['-noout', '-text'])).toContain('id-ecPublicKey');
    const again = await h.client.issue({ commonName: name, keyAlgorithm: 'rsa-2048' }).catch((e: unknown) => e);
    expect((again as GatewayRequestError).status).toBe(400);
  });

  // Last: it changes the root every other test verifies against.
  it('follows a root rotated inside Vault: within 30 s and with no restart a new leaf verifies against GET /v1/ca, and trust-bundle-changed is announced', async () => {
    const admin = new VaultAdmin(vault);
    const follow = new AbortController();
    const announced = (async () => {
      for await (const event of h.client.events({ signal: follow.signal })) {
        if (event.type === 'trust-bundle-changed') return event;
      }
      return undefined;
    })();
    try {
      const oldLeaf = await h.client.issue({ commonName: 'old-root.bookstore.cluster.local' });
      const rotated = await admin.call('POST', 'pki/root/rotate/internal', { common_name: 'fsm.root.next', key_type: 'ec', ttl: '87600h' });
      const issuerId = (rotated as { data: { issuer_id: string } }).data.issuer_id;
      await admin.call('POST', 'pki/root/replace', { default: issuerId });
      const newLeaf = await h.client.issue({ commonName: 'new-root.bookstore.cluster.local' });
      expect(opensslVerify(newLeaf.certificate, rootPem, { chainPem: newLeaf.chain }).ok).toBe(false);

      const bundle = await eventually(async () => {
        const pem = await h.client.trustBundlePem();
        return opensslVerify(newLeaf.certificate, pem, { chainPem: newLeaf.chain }).ok ? pem : undefined;
      }, 30_000, 'GET /v1/ca to hold the new Vault root');
      // Leaves of the old root stay trusted while its issuer lives in Vault.
      expect(opensslVerify(oldLeaf.certificate, bundle, { chainPem: oldLeaf.chain }).ok).toBe(true);
      expect(await announced).toMatchObject({ type: 'trust-bundle-changed' });
    } finally {
      follow.abort();
    }
  }, 60_000);
});
