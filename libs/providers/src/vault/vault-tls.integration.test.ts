// Vault over https: a real `bao server -dev -dev-tls` whose CA is handed over as VAULT_CACERT, the
// way an operator configures a production Vault. The provider is wired from configuration.
import { loadConfig } from '@fsm-certs/config';
import { createRootCa } from '@fsm-certs/x509';
import { opensslVerify } from '@fsm-certs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerFailure } from '../provider-error.test-helpers.js';
import { createVaultProvider } from './from-config.js';
import { silentLogger } from './logger.js';
import { staticTokenSource } from './token-source.js';
import { createVaultTransport } from './transport.js';
import { VaultClient } from './vault-client.js';
import { issueRequest, startVaultSuite } from './vault-target.test-helpers.js';
import type { VaultSuite } from './vault-target.test-helpers.js';

const suite: VaultSuite = await startVaultSuite({ tls: true, suite: 'vault https' });
const { target } = suite;

describe(`the Vault provider over https against ${target.description}`, () => {
  beforeAll(async () => {
    await suite.bootstrap();
  });
  afterAll(() => suite.close());

  it('is served over https with a CA file to trust', () => {
    expect(target.address).toMatch(/^https:\/\//);
    expect(target.caFile).toBeDefined();
  });

  it('issues through a provider configured with VAULT_ADDR=https://… and VAULT_CACERT, verified by openssl', async () => {
    const config = loadConfig({
      env: { CERT_MANAGER: 'vault', VAULT_ADDR: target.address, VAULT_TOKEN: target.rootToken, VAULT_CACERT: target.caFile ?? '', VAULT_MOUNT_PATH: suite.mount },
    });
    const provider = await createVaultProvider(config, { store: suite.store, logger: silentLogger });
    try {
      const cert = await provider.issue(issueRequest('tls-client.bookstore.cluster.local'));
      const caCrt = (await suite.store.get(suite.caBundle))?.data['ca.crt']?.toString('utf8') ?? '';
      expect(opensslVerify(cert.certificatePem, caCrt).ok).toBe(true);
    } finally {
      await provider.close();
    }
  });

  it('refuses a Vault certificate it cannot verify, as BACKEND_UNAVAILABLE naming the address', async () => {
    const stranger = new VaultClient({
      transport: createVaultTransport({ address: target.address, caPem: createRootCa().certificatePem }),
      tokenSource: staticTokenSource(target.rootToken),
      logger: silentLogger,
      retry: { maxAttempts: 1 },
    });
    const error = await providerFailure(stranger.lookupSelf());
    expect(error.code).toBe('BACKEND_UNAVAILABLE');
    expect(error.message).toContain(target.address);
  });
});
