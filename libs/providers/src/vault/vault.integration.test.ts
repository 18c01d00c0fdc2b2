// The Vault integration suite: the same file runs against a real Vault (VAULT_ADDR+VAULT_TOKEN),
// a Testcontainers Vault dev server, or the emulator, and says which. `npm run test:vault` runs it alone.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { createCsr, generateKeyPair } from '@fsm-certs/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IssueRequest } from '../provider.js';
import { FileSecretStore } from '../secret-store/file-store.js';
import { opensslKeyMatches, opensslVerify } from '@fsm-certs/testing';
import { applyBootstrap } from './bootstrap.js';
import { bootstrapSettingsSchema } from './bootstrap-settings.js';
import type { BootstrapSettingsInput } from './bootstrap-settings.js';
import type { VaultLogger } from './logger.js';
import type { Scheduler } from './token-renewer.js';
import { staticTokenSource } from './token-source.js';
import { createNodeVaultTransport } from './transport.js';
import { VaultClient } from './vault-client.js';
import type { RetryPolicy } from './backoff.js';
import { VaultProvider } from './vault-provider.js';
import { rootCall, startVaultTarget } from './vault-target.test-helpers.js';
import { providerFailure } from '../provider-error.test-helpers.js';

const target = await startVaultTarget();
console.log(`Vault integration suite target: ${target.kind} (${target.address})`);

// A fresh mount per run, so a shared Vault from the environment is left as it was found.
const mount = `fsm-it-${randomUUID().slice(0, 8)}`;
const settings = (input: BootstrapSettingsInput = {}) => bootstrapSettingsSchema.parse({ mountPath: mount, healthTimeoutMs: 10_000, ...input });

function memoryLogger(): VaultLogger & { lines: string[] } {
  const lines: string[] = [];
  const push = (obj: Record<string, unknown>, msg: string): void => {
    lines.push(`${msg} ${JSON.stringify(obj)}`);
  };
  return { lines, info: push, warn: push, error: push };
}

function client(token: string, logger: VaultLogger, retry: Partial<RetryPolicy> = { maxAttempts: 2, baseDelayMs: 20, maxDelayMs: 50 }): VaultClient {
  const transport = createNodeVaultTransport({ address: target.address, timeoutMs: 1_500, ...(target.caPem === undefined ? {} : { caPem: target.caPem }) });
  return new VaultClient({ transport, tokenSource: staticTokenSource(token), logger, retry });
}

const request = (commonName: string, extra: Partial<IssueRequest> = {}): IssueRequest => ({
  commonName,
  dnsNames: [],
  uris: [],
  ipAddresses: [],
  validityMs: 5400_000,
  keyAlgorithm: 'ecdsa-p256',
  ...extra,
});

describe(`Vault integration (target: ${target.kind})`, () => {
  let dataDir: string;
  let store: FileSecretStore;
  const caBundle = { namespace: 'fsm-system', name: 'fsm-ca-bundle' };
  const providers: VaultProvider[] = [];
  const start = async (options: { role?: string; token?: string; retry?: Partial<RetryPolicy>; logger?: VaultLogger; schedule?: Scheduler } = {}): Promise<VaultProvider> => {
    const logger = options.logger ?? memoryLogger();
    const provider = await VaultProvider.start({
      client: client(options.token ?? target.rootToken, logger, options.retry),
      role: options.role ?? 'fsm',
      mountPath: mount,
      store,
      caBundle,
      logger,
      ...(options.schedule === undefined ? {} : { schedule: options.schedule }),
    });
    providers.push(provider);
    return provider;
  };

  beforeAll(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'fsm-vault-it-'));
    store = new FileSecretStore({ dataDir });
  });

  afterAll(async () => {
    await Promise.all(providers.map((p) => p.close()));
    if (target.kind === 'env') await rootCall(target, 'DELETE', `sys/mounts/${mount}`).catch(() => undefined);
    await target.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('bootstraps the PKI mount, and a second run changes nothing', async () => {
    const c = client(target.rootToken, memoryLogger());
    const first = await applyBootstrap(c, settings());
    expect(first.changed).toBe(true);
    expect(first.steps.map((s) => `${s.name}:${s.action}`)).toEqual(['mount:create', 'tune:update', 'urls:update', 'role:create', 'root:create']);
    const second = await applyBootstrap(c, settings());
    expect(second.changed).toBe(false);
    expect(second.steps.every((s) => s.action === 'none')).toBe(true);
    // A role restricted to one domain, for the name-policy test.
    const narrow = await applyBootstrap(c, settings({ role: { name: 'narrow', allowAnyName: false, allowedDomains: ['mesh.local'], allowBareDomains: false } }));
    expect(narrow.steps.filter((s) => s.action !== 'none').map((s) => s.name)).toEqual(['role']);
  });

  it('issues with a server-generated key and via a CSR; both verify with openssl against ca.crt from the bundle secret', async () => {
    const provider = await start();
    const secret = await store.get(caBundle);
    const caCrt = secret?.data['ca.crt']?.toString('utf8') ?? '';
    expect(caCrt).toContain('BEGIN CERTIFICATE');
    expect(secret?.data['private.key']).toBeUndefined();

    const before = Date.now();
    const serverKey = await provider.issue(request('bookstore-v2.bookstore.cluster.local', { dnsNames: ['bookstore-v2'], uris: ['spiffe://cluster.local/ns/bookstore/sa/bookstore-v2'] }));
    expect(opensslVerify(serverKey.certificatePem, caCrt).output).toMatch(/: OK/);
    expect(opensslKeyMatches(serverKey.certificatePem, serverKey.privateKeyPem ?? '')).toBe(true);
    // 90 minutes exactly (never truncated to whole hours), read from the certificate.
    expect(Math.abs(serverKey.notAfter.getTime() - (before + 5400_000))).toBeLessThan(90_000);
    expect(serverKey).toMatchObject({ provider: 'vault', chainPem: [], trustedCasPem: [caCrt], warnings: [] });
    expect(serverKey.serialNumber).toMatch(/^[0-9a-f]+$/);

    const keyPair = generateKeyPair('ecdsa-p256');
    const csrPem = createCsr({ commonName: 'not-the-identity.example', keyPair });
    const signed = await provider.issue(request('csr-client.bookstore.cluster.local', { csrPem }));
    expect(signed.privateKeyPem).toBeUndefined();
    expect(signed.commonName).toBe('csr-client.bookstore.cluster.local');
    expect(opensslVerify(signed.certificatePem, caCrt).output).toMatch(/: OK/);
  });

  it('turns a name outside the role into NAME_NOT_ALLOWED (403 for the caller) with Vault\'s reason', async () => {
    const provider = await start({ role: 'narrow' });
    await expect(provider.issue(request('ok.mesh.local'))).resolves.toMatchObject({ commonName: 'ok.mesh.local' });
    const error = await providerFailure(provider.issue(request('evil.example')));
    expect(error).toMatchObject({ code: 'NAME_NOT_ALLOWED', httpStatus: 403, retryable: false });
    expect(error.message).toContain('not allowed by this role');
  });

  it('refuses to start with a bad token: BACKEND_AUTH_FAILED naming what to fix', async () => {
    const error = await providerFailure(start({ token: 'not-a-valid-token' }));
    expect(error.code).toBe('BACKEND_AUTH_FAILED');
    expect(error.message).toMatch(/vault\.token|VAULT_TOKEN/);
    expect(error.message).not.toContain('not-a-valid-token');
  });

  it('caps a validity over the role max_ttl and surfaces Vault\'s warning', async () => {
    const logger = memoryLogger();
    const provider = await start({ logger });
    const before = Date.now();
    const cert = await provider.issue(request('long-lived.example', { validityMs: 48 * 3600_000 }));
    expect(Math.abs(cert.notAfter.getTime() - (before + 24 * 3600_000))).toBeLessThan(90_000);
    expect(cert.warnings.join('\n')).toMatch(/max.?TTL/i);
    expect(logger.lines.some((l) => l.startsWith('vault warning'))).toBe(true);
  });

  it('renews a renewable token before it expires', async () => {
    const created = await rootCall(target, 'POST', 'auth/token/create', { ttl: '1h', renewable: true, policies: ['root'] });
    const token = String((created as { auth: { client_token: string } }).auth.client_token);
    const scheduled: Array<{ fn: () => void; delayMs: number }> = [];
    const logger = memoryLogger();
    await start({ token, logger, schedule: (fn, delayMs) => {
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

  it.skipIf(target.outage === undefined)('answers BACKEND_UNAVAILABLE while Vault is down and recovers without a new provider, losing no request', async () => {
    const outage = target.outage;
    if (outage === undefined) return;
    const provider = await start({ retry: { maxAttempts: 6, baseDelayMs: 50, maxDelayMs: 200 } });
    await provider.issue(request('before.example'));
    await outage.down();
    try {
      const error = await providerFailure(provider.issue(request('during.example')));
      expect(error).toMatchObject({ code: 'BACKEND_UNAVAILABLE', httpStatus: 503, retryable: true });
      // Existing trust keeps being served from what the provider already knows.
      expect((await provider.trustBundle()).trustedCasPem).toHaveLength(1);
      // Issued while Vault is still down; its retries carry it past the restart.
      const pending = provider.issue(request('in-flight.example'));
      await new Promise((resolve) => setTimeout(resolve, 150));
      await outage.up();
      await expect(pending).resolves.toMatchObject({ commonName: 'in-flight.example' });
    } finally {
      await outage.up();
    }
    await expect(provider.issue(request('after.example'))).resolves.toMatchObject({ commonName: 'after.example' });
  });
});
