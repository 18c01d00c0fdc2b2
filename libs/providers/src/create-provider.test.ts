import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@fsm-certs/config';
import { CertManagerEmulator, KubernetesEmulator, VaultAdmin, startVaultTarget } from '@fsm-certs/testing';
import { createRootCa } from '@fsm-certs/x509';
import { createProvider } from './create-provider.js';
import { isProviderError } from './errors.js';
import { FileSecretStore } from './secret-store/file-store.js';
import { applyBootstrap } from './vault/bootstrap.js';
import { bootstrapSettingsSchema } from './vault/bootstrap-settings.js';
import { silentLogger } from './vault/logger.js';
import { staticTokenSource } from './vault/token-source.js';
import { createVaultTransport } from './vault/transport.js';
import { VaultClient } from './vault/vault-client.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'fsm-factory-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('createProvider', () => {
  it('starts Tresor on the file store named by the configuration', async () => {
    const config = loadConfig({ env: { FSM_DATA_DIR: dataDir, FSM_NAMESPACE: 'mesh', FSM_CA_BUNDLE_SECRET_NAME: 'mesh-ca' } });
    const provider = await createProvider(config);
    expect(provider.kind).toBe('tresor');
    const secret = await new FileSecretStore({ dataDir }).get({ namespace: 'mesh', name: 'mesh-ca' });
    expect(secret?.data['ca.crt']?.toString()).toBe((await provider.trustBundle()).issuingCaPem);
  });

  it('starts Tresor on Kubernetes Secrets when secretStore.kind is kubernetes', async () => {
    const emulator = await KubernetesEmulator.start();
    try {
      const config = loadConfig({ env: { FSM_SECRET_STORE: 'kubernetes' } });
      const provider = await createProvider(config, { kubeConfig: emulator.kubeConfig() });
      const stored = emulator.store.get(emulator.secrets, 'fsm-system', 'fsm-ca-bundle');
      expect(Buffer.from(String((stored.data as Record<string, string>)['ca.crt']), 'base64').toString()).toBe((await provider.trustBundle()).issuingCaPem);
      expect(stored.type).toBe('Opaque');
    } finally {
      await emulator.close();
    }
  });

  it('starts the Vault provider from FSM\'s VAULT_* variables and writes the Vault root as ca.crt', async () => {
    const vault = await startVaultTarget({ suite: 'createProvider vault' });
    const admin = new VaultAdmin(vault);
    const mount = admin.scratchMount();
    const vaultData = mkdtempSync(path.join(tmpdir(), 'fsm-factory-vault-'));
    try {
      const client = new VaultClient({ transport: createVaultTransport({ address: vault.address, ...(vault.caPem === undefined ? {} : { caPem: vault.caPem }) }), tokenSource: staticTokenSource(vault.rootToken), logger: silentLogger });
      await applyBootstrap(client, bootstrapSettingsSchema.parse({ mountPath: mount }));
      const config = loadConfig({ env: { CERT_MANAGER: 'vault', VAULT_ADDR: vault.address, VAULT_TOKEN: vault.rootToken, VAULT_MOUNT_PATH: mount, FSM_DATA_DIR: vaultData, ...(vault.caFile === undefined ? {} : { VAULT_CACERT: vault.caFile }) } });
      const provider = await createProvider(config);
      expect(provider.kind).toBe('vault');
      const secret = await new FileSecretStore({ dataDir: vaultData }).get({ namespace: 'fsm-system', name: 'fsm-ca-bundle' });
      expect(secret?.data['ca.crt']?.toString()).toContain('BEGIN CERTIFICATE');
      expect(secret?.data['private.key']).toBeUndefined();
      await provider.close();
    } finally {
      rmSync(vaultData, { recursive: true, force: true });
      await admin.cleanup();
      await vault.close();
    }
  });

  it('starts the cert-manager provider against the issuer named by certmanager.* and refuses a missing issuer', async () => {
    const kube = await KubernetesEmulator.start();
    try {
      const certManager = CertManagerEmulator.install(kube);
      certManager.createCaIssuer({ name: 'mesh-issuer', namespace: 'fsm-system', ca: createRootCa() });
      const config = loadConfig({ env: { CERT_MANAGER: 'cert-manager', CERTMANAGER_ISSUER_NAME: 'mesh-issuer', FSM_SECRET_STORE: 'kubernetes' } });
      const provider = await createProvider(config, { kubeConfig: kube.kubeConfig() });
      expect(provider.kind).toBe('cert-manager');
      await provider.close();
      const missing = loadConfig({ env: { CERT_MANAGER: 'cert-manager', CERTMANAGER_ISSUER_NAME: 'nobody', FSM_SECRET_STORE: 'kubernetes' } });
      const error = await createProvider(missing, { kubeConfig: kube.kubeConfig() }).catch((e: unknown) => e);
      expect(isProviderError(error) && error.code).toBe('CONFIGURATION_INVALID');
    } finally {
      await kube.close();
    }
  });
});
