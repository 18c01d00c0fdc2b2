// The Vault provider against a real Vault-API server: OpenBao's `bao server -dev` by default (see
// startVaultTarget), or VAULT_ADDR+VAULT_TOKEN from the environment, on a scratch mount that is
// removed afterwards. `npm run test:vault` runs every Vault suite.
import { createCsr, exportPrivateKeyPem, generateKeyPair, inspectCertificate } from '@fsm-certs/x509';
import { opensslKeyMatches, opensslVerify, opensslX509 } from '@fsm-certs/testing';
import type { VaultSnapshot } from '@fsm-certs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerFailure } from '../provider-error.test-helpers.js';
import { planBootstrap } from './bootstrap.js';
import { bootstrapSettingsSchema } from './bootstrap-settings.js';
import { secretTokenSource } from './token-source.js';
import { issueRequest, memoryLogger, startVaultSuite } from './vault-target.test-helpers.js';
import type { VaultSuite } from './vault-target.test-helpers.js';

const suite: VaultSuite = await startVaultSuite({ suite: 'vault integration' });
const { target, admin, store, caBundle } = suite;
let before: VaultSnapshot;

describe(`the Vault provider against ${target.description}`, () => {
  beforeAll(async () => {
    before = await admin.snapshot();
  });
  afterAll(() => suite.close());

  it('bootstraps the PKI mount, and a second run changes nothing', async () => {
    const first = await suite.bootstrap();
    expect(first.changed).toBe(true);
    expect(first.steps.map((s) => `${s.name}:${s.action}`)).toEqual(['mount:create', 'tune:update', 'urls:update', 'role:create', 'root:create']);
    const second = await suite.bootstrap();
    expect(second.changed).toBe(false);
    expect(second.steps.every((s) => s.action === 'none')).toBe(true);
    // A role restricted to one domain, for the name-policy tests.
    const narrow = await suite.bootstrap({ role: { name: 'narrow', allowAnyName: false, allowedDomains: ['mesh.local'], allowBareDomains: false } });
    expect(narrow.steps.filter((s) => s.action !== 'none').map((s) => s.name)).toEqual(['role']);
  });

  it('issues with a server-generated key and via a CSR; both verify with openssl against ca.crt from the bundle secret', async () => {
    const provider = await suite.start();
    const secret = await store.get(caBundle);
    const caCrt = secret?.data['ca.crt']?.toString('utf8') ?? '';
    expect(caCrt).toContain('BEGIN CERTIFICATE');
    expect(secret?.data['private.key']).toBeUndefined();

    const before = Date.now();
    const serverKey = await provider.issue(issueRequest('bookstore-v2.bookstore.cluster.local', { dnsNames: ['bookstore-v2'], uris: ['spiffe://cluster.local/ns/bookstore/sa/bookstore-v2'] }));
    const answered = Date.now();
    expect(opensslVerify(serverKey.certificatePem, caCrt).output).toMatch(/: OK/);
    expect(opensslKeyMatches(serverKey.certificatePem, serverKey.privateKeyPem ?? '')).toBe(true);
    // 90 minutes exactly (never truncated to whole hours), read from the certificate: Vault's now + 90m,
    // bracketed between asking and the answer (less a second: X.509 times are whole seconds).
    expect(serverKey.notAfter.getTime()).toBeGreaterThanOrEqual(before - 1_000 + 5400_000);
    expect(serverKey.notAfter.getTime()).toBeLessThanOrEqual(answered + 5400_000);
    expect(serverKey).toMatchObject({ provider: 'vault', chainPem: [], trustedCasPem: [caCrt], warnings: [] });
    expect(serverKey.serialNumber).toMatch(/^[0-9a-f]+$/);

    const keyPair = generateKeyPair('ecdsa-p256');
    const csrPem = createCsr({ commonName: 'not-the-identity.example', keyPair });
    const signed = await provider.issue(issueRequest('csr-client.bookstore.cluster.local', { csrPem }));
    expect(signed.privateKeyPem).toBeUndefined();
    expect(signed.commonName).toBe('csr-client.bookstore.cluster.local');
    // pki/sign was used: the certificate carries the CSR's key, not one Vault made.
    expect(inspectCertificate(signed.certificatePem).keyType).toBe('ec');
    expect(opensslKeyMatches(signed.certificatePem, exportPrivateKeyPem(keyPair.privateKey))).toBe(true);
    expect(opensslVerify(signed.certificatePem, caCrt).output).toMatch(/: OK/);
  });

  it('writes key_usage for the role\'s key family (ec: DigitalSignature only, RFC 5480), so its leaves carry no keyEncipherment', async () => {
    const keyUsageOf = async (role: string): Promise<unknown> => {
      const answer = (await admin.call('GET', `${suite.mount}/roles/${role}`)) as { data: { key_usage?: unknown } };
      return answer.data.key_usage;
    };
    expect(await keyUsageOf('fsm')).toEqual(['DigitalSignature']);
    await suite.bootstrap({ role: { name: 'rsa-leaves', keyType: 'rsa' } });
    expect(await keyUsageOf('rsa-leaves')).toEqual(['DigitalSignature', 'KeyEncipherment']);

    const provider = await suite.start();
    const issued = await provider.issue(issueRequest('usages.bookstore.cluster.local'));
    expect(opensslX509(issued.certificatePem, ['-ext', 'keyUsage']).split('\n').map((line) => line.trim())).toContain('Digital Signature');
    expect(opensslX509(issued.certificatePem, ['-ext', 'keyUsage'])).not.toContain('Key Encipherment');

    // A role written without key_usage has Vault's default (DigitalSignature, KeyAgreement, KeyEncipherment): bootstrap corrects it.
    await admin.call('POST', `${suite.mount}/roles/legacy`, { allow_any_name: true, key_type: 'ec', max_ttl: '24h' });
    const plan = await planBootstrap(suite.client(), bootstrapSettingsSchema.parse({ mountPath: suite.mount, role: { name: 'legacy' } }));
    expect(plan.find((step) => step.name === 'role')?.summary).toMatch(/key_usage: \[DigitalSignature,KeyAgreement,KeyEncipherment\] -> \[DigitalSignature\]/);
  });

  it('turns a name outside the role into NAME_NOT_ALLOWED (403 for the caller) with Vault\'s reason', async () => {
    const provider = await suite.start({ role: 'narrow' });
    await expect(provider.issue(issueRequest('ok.mesh.local'))).resolves.toMatchObject({ commonName: 'ok.mesh.local' });
    const error = await providerFailure(provider.issue(issueRequest('evil.example')));
    expect(error).toMatchObject({ code: 'NAME_NOT_ALLOWED', httpStatus: 403, retryable: false });
    expect(error.message).toContain('not allowed by this role');
  });

  it('refuses to start with a bad token: BACKEND_AUTH_FAILED naming what to fix', async () => {
    const error = await providerFailure(suite.start({ token: 'not-a-valid-token' }));
    expect(error.code).toBe('BACKEND_AUTH_FAILED');
    expect(error.message).toMatch(/vault\.token|VAULT_TOKEN/);
    expect(error.message).not.toContain('not-a-valid-token');
  });

  it('refuses to start with a token whose policy lacks pki/sign, naming the path and the policy to attach', async () => {
    await admin.writePolicy(`${suite.mount}-issue-only`, `path "${suite.mount}/issue/fsm" { capabilities = ["update"] }\npath "${suite.mount}/ca/pem" { capabilities = ["read"] }`);
    const token = await admin.createToken({ policies: [`${suite.mount}-issue-only`] });
    const error = await providerFailure(suite.start({ token }));
    expect(error.code).toBe('BACKEND_AUTH_FAILED');
    expect(error.message).toContain(`${suite.mount}/sign/fsm`);
    expect(error.message).toContain('capabilities = ["update"]');
  });

  it('answers BACKEND_AUTH_FAILED once its token is revoked, and recovers when the token secret is rotated', async () => {
    const first = await admin.createToken({ policies: ['root'] });
    const tokenRef = { namespace: 'fsm-system', name: 'vault-token' };
    await store.create(tokenRef, { token: Buffer.from(first) });
    const provider = await suite.start({ tokenSource: secretTokenSource(store, tokenRef, 'token') });
    await provider.issue(issueRequest('before-revoke.example'));

    await admin.revokeToken(first);
    const error = await providerFailure(provider.issue(issueRequest('after-revoke.example')));
    expect(error).toMatchObject({ code: 'BACKEND_AUTH_FAILED', retryable: false });
    expect(error.message).toContain('vault.secret.name');

    // The operator puts a new token into the secret: the next call re-reads it after the 403.
    const second = await admin.createToken({ policies: ['root'] });
    const current = await store.get(tokenRef);
    await store.update(tokenRef, { token: Buffer.from(second) }, current?.resourceVersion ?? '');
    await expect(provider.issue(issueRequest('after-rotation.example'))).resolves.toMatchObject({ commonName: 'after-rotation.example' });
  });

  it('caps a validity over the role max_ttl and surfaces Vault\'s warning', async () => {
    const logger = memoryLogger();
    const provider = await suite.start({ logger });
    const before = Date.now();
    const cert = await provider.issue(issueRequest('long-lived.example', { validityMs: 48 * 3600_000 }));
    const answered = Date.now();
    // Capped at the role's 24h max_ttl, counted from Vault's now (whole seconds).
    expect(cert.notAfter.getTime()).toBeGreaterThanOrEqual(before - 1_000 + 24 * 3600_000);
    expect(cert.notAfter.getTime()).toBeLessThanOrEqual(answered + 24 * 3600_000);
    expect(cert.warnings.join('\n')).toMatch(/max.?TTL/i);
    expect(logger.lines.some((l) => l.startsWith('vault warning'))).toBe(true);
  });

  it('renews a renewable token before it expires', async () => {
    const token = await admin.createToken({ policies: ['root'], ttl: '1h', renewable: true });
    const scheduled: Array<{ fn: () => void; delayMs: number }> = [];
    const logger = memoryLogger();
    await suite.start({ token, logger, schedule: (fn, delayMs) => {
      scheduled.push({ fn, delayMs });
      return { cancel: () => undefined };
    } });
    expect(scheduled).toHaveLength(1);
    expect(scheduled[0]?.delayMs).toBeGreaterThan(30 * 60_000);
    expect(scheduled[0]?.delayMs).toBeLessThan(3600_000);
    scheduled[0]?.fn();
    await expect.poll(() => logger.lines.some((l) => l.startsWith('vault token renewed'))).toBe(true);
    expect(logger.lines.join('\n')).not.toContain(token);
  });

  it('leaves the Vault as it found it: no scratch mount, token or policy remains', async () => {
    await admin.cleanup();
    const after = await admin.snapshot();
    expect(after.mounts).toEqual(before.mounts);
    expect(after.tokenAccessors).toEqual(before.tokenAccessors);
    expect(after.policies).toEqual(before.policies);
    expect(after.mounts.some((m) => m.startsWith('fsm-it-'))).toBe(false);
  });
});
