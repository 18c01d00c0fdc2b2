import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@fsm-certs/config';
import { KubernetesEmulator } from '@fsm-certs/testing';
import { createProvider } from './create-provider.js';
import { isProviderError } from './errors.js';
import { FileSecretStore } from './secret-store/file-store.js';

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

  it('refuses a provider kind that is not wired into this build with CONFIGURATION_INVALID', async () => {
    const config = loadConfig({ env: { CERT_MANAGER: 'cert-manager' } });
    const error = await createProvider(config).catch((e: unknown) => e);
    expect(isProviderError(error) && error.code).toBe('CONFIGURATION_INVALID');
  });
});
