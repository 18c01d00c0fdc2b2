// The system with CERT_MANAGER=vault: vault-bootstrap prepares a Vault the way deploy-vault.sh does,
// then gateway + ca-service + rotation-worker issue through Vault PKI. The Vault here is the
// emulator from libs/testing (no container runtime on CI); `npm run test:vault` covers real Vault.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayRequestError } from '@fsm-certs/client';
import { opensslVerify, opensslX509, VaultEmulator } from '@fsm-certs/testing';
import { repoRoot } from '../app-process.js';
import { startHarness, type Harness } from './harness.js';

const TOKEN = 'xyz';

describe('the system with the Vault provider (Vault PKI emulator)', () => {
  let vault: VaultEmulator;
  let h: Harness;
  let rootPem: string;

  beforeAll(async () => {
    vault = await VaultEmulator.start({ rootToken: TOKEN });
    // Asynchronously: the emulator answers from this very process.
    await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--conditions=development', path.join(repoRoot(), 'apps/vault-bootstrap/src/main.ts')],
      { cwd: repoRoot(), env: { ...process.env, VAULT_ADDR: vault.address, VAULT_TOKEN: TOKEN } },
    );
    h = await startHarness({
      env: { CERT_MANAGER: 'vault', VAULT_ADDR: vault.address, VAULT_TOKEN: TOKEN, VAULT_ROLE: 'fsm', GATEWAY_ISSUE_TIMEOUT: '60s' },
    });
    rootPem = await h.client.trustBundlePem();
  }, 150_000);
  afterAll(async () => {
    await h?.close();
    await vault?.close();
  });

  it('serves the Vault root (fsm.root) as the trust bundle', () => {
    expect(opensslX509(rootPem, ['-subject'])).toMatch(/fsm\.root/);
  });

  it('issues through pki/issue with a server key and through pki/sign from a CSR, both verified by openssl', async () => {
    const serverKey = await h.client.issue({ commonName: 'bookstore-v2.bookstore.cluster.local', validity: '1h30m' });
    expect(serverKey.privateKey).toBeDefined();
    expect(opensslVerify(serverKey.certificate, rootPem, serverKey.chain).ok).toBe(true);
    // The requested validity is sent exactly (not truncated to whole hours).
    const lifetimeMs = Date.parse(serverKey.notAfter) - Date.parse(serverKey.notBefore);
    expect(Math.abs(lifetimeMs - 90 * 60_000)).toBeLessThan(2 * 60_000);

    const { createCsr, generateKeyPair } = await import('@fsm-certs/x509');
    const csr = createCsr({ commonName: 'ignored.example', keyPair: generateKeyPair('ecdsa-p256') });
    const signed = await h.client.issue({ commonName: 'bookbuyer.bookbuyer.cluster.local', csr });
    expect(signed.privateKey).toBeUndefined();
    expect(opensslVerify(signed.certificate, rootPem, signed.chain).ok).toBe(true);
    expect(vault.requests.some((r) => r.path.endsWith('/pki/sign/fsm') && r.status === 200)).toBe(true);
    expect(vault.requests.some((r) => r.path.endsWith('/pki/issue/fsm') && r.status === 200)).toBe(true);
  });

  it('answers 503 with Retry-After for new names while Vault is down, keeps serving existing certs, and recovers', async () => {
    const existing = await h.client.issue({ commonName: 'reviews.bookstore.cluster.local' });
    await vault.stop();
    try {
      const refused = await h.client.issue({ commonName: 'during-outage.bookstore.cluster.local' }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(GatewayRequestError);
      expect((refused as GatewayRequestError).status).toBe(503);
      expect((refused as GatewayRequestError).retryAfterSeconds).toBeGreaterThan(0);
      expect((await h.client.get('reviews.bookstore.cluster.local')).serialNumber).toBe(existing.serialNumber);
    } finally {
      await vault.start();
    }
    const recovered = await h.client.issue({ commonName: 'during-outage.bookstore.cluster.local' });
    expect(opensslVerify(recovered.certificate, rootPem, recovered.chain).ok).toBe(true);
  }, 120_000);
});
