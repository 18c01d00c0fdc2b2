// The system with CERT_MANAGER=vault: vault-bootstrap prepares a Vault the way deploy-vault.sh does,
// then gateway + ca-service + rotation-worker issue through Vault PKI. The Vault here is the
// emulator from libs/testing (no container runtime on CI); `npm run test:vault` covers real Vault.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayRequestError } from '@fsm-certs/client';
import { opensslVerify, opensslX509, VaultEmulator } from '@fsm-certs/testing';
import { createCsr, createRootCa, generateKeyPair, issueLeaf } from '@fsm-certs/x509';
import { repoRoot } from '../app-process.js';
import { startHarness, type Harness } from './harness.js';

const TOKEN = 'xyz';

describe('the system with the Vault provider (Vault PKI emulator over https)', () => {
  let vault: VaultEmulator;
  let h: Harness;
  let rootPem: string;
  let tlsDir: string;

  beforeAll(async () => {
    // Vault over https with a private CA, as `npm run dev:vault -- --emulator --https` prints it.
    const tlsCa = createRootCa({ commonName: 'vault-tls-ca.example' });
    const serving = issueLeaf(tlsCa.issuer, { commonName: 'localhost', ipAddresses: ['127.0.0.1'], validityMs: 3_600_000 });
    tlsDir = mkdtempSync(path.join(tmpdir(), 'fsm-vault-tls-'));
    const caFile = path.join(tlsDir, 'vault-ca.pem');
    writeFileSync(caFile, tlsCa.certificatePem);
    vault = await VaultEmulator.start({
      rootToken: TOKEN,
      tls: { certificatePem: serving.certificatePem, privateKeyPem: serving.privateKeyPem ?? '' },
    });
    expect(vault.address).toMatch(/^https:/);
    // Asynchronously: the emulator answers from this very process.
    await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--conditions=development', path.join(repoRoot(), 'apps/vault-bootstrap/src/main.ts')],
      { cwd: repoRoot(), env: { ...process.env, VAULT_ADDR: vault.address, VAULT_TOKEN: TOKEN, VAULT_CACERT: caFile } },
    );
    h = await startHarness({
      env: { CERT_MANAGER: 'vault', VAULT_ADDR: vault.address, VAULT_CACERT: caFile, VAULT_TOKEN: TOKEN, VAULT_ROLE: 'fsm', GATEWAY_ISSUE_TIMEOUT: '60s' },
    });
    rootPem = await h.client.trustBundlePem();
  }, 150_000);
  afterAll(async () => {
    await h?.close();
    await vault?.close();
    if (tlsDir !== undefined) rmSync(tlsDir, { recursive: true, force: true });
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

    const csr = createCsr({ commonName: 'ignored.example', keyPair: generateKeyPair('ecdsa-p256') });
    const signed = await h.client.issue({ commonName: 'bookbuyer.bookbuyer.cluster.local', csr });
    expect(signed.privateKey).toBeUndefined();
    expect(opensslVerify(signed.certificate, rootPem, { chainPem: signed.chain }).ok).toBe(true);
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
    expect(opensslVerify(recovered.certificate, rootPem, { chainPem: recovered.chain }).ok).toBe(true);
  }, 120_000);
});
