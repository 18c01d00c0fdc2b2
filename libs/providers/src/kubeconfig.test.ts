// KUBECONFIG as kubectl reads it: a list of files, the first definition of a name winning. The
// API at the end is the Kubernetes emulator; the store is what the apps build from config.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KubernetesEmulator } from '@fsm-certs/testing';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isProviderError } from './errors.js';
import { loadKubeConfig } from './kubeconfig.js';
import { createSecretStore } from './secret-store/create-secret-store.js';

let kube: KubernetesEmulator;
let dir: string;

function file(name: string, content: Record<string, unknown>): string {
  const at = path.join(dir, name);
  writeFileSync(at, stringify({ apiVersion: 'v1', kind: 'Config', ...content }), { mode: 0o600 });
  return at;
}

beforeAll(async () => {
  kube = await KubernetesEmulator.start();
  dir = mkdtempSync(path.join(tmpdir(), 'fsm-kubeconfig-'));
  kube.store.create(kube.secrets, 'fsm-system', {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'fsm-ca-bundle', namespace: 'fsm-system' },
    data: { 'ca.crt': Buffer.from('root').toString('base64') },
  });
});
afterAll(async () => {
  await kube.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('KUBECONFIG with several files (kubectl list form)', () => {
  it('reads Secrets through the context the first file selects and the cluster a later file defines', async () => {
    const first = file('first.yaml', { 'current-context': 'mesh', contexts: [{ name: 'mesh', context: { cluster: 'lab', user: 'lab' } }], clusters: [], users: [] });
    const second = file('second.yaml', {
      'current-context': 'elsewhere',
      clusters: [{ name: 'lab', cluster: { server: kube.url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'lab', user: { token: kube.token } }],
      contexts: [{ name: 'elsewhere', context: { cluster: 'nowhere', user: 'lab' } }],
    });
    const store = createSecretStore({ secretStore: { kind: 'kubernetes', dataDir: '.data' }, kubeconfig: `${first}${path.delimiter}${second}` });
    const secret = await store.get({ namespace: 'fsm-system', name: 'fsm-ca-bundle' });
    expect(secret?.data['ca.crt']?.toString()).toBe('root');
  });

  it('keeps the first definition of a name, as kubectl does, where client-node would refuse the duplicate', () => {
    const first = file('a.yaml', {
      'current-context': 'mesh',
      clusters: [{ name: 'lab', cluster: { server: kube.url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'lab', user: { token: kube.token } }],
      contexts: [{ name: 'mesh', context: { cluster: 'lab', user: 'lab' } }],
    });
    const second = file('b.yaml', { clusters: [{ name: 'lab', cluster: { server: 'https://127.0.0.1:1' } }], users: [], contexts: [] });
    const kubeConfig = loadKubeConfig({ kubeconfig: `${first}${path.delimiter}${path.delimiter}${second}` });
    expect(kubeConfig.getCurrentContext()).toBe('mesh');
    expect(kubeConfig.getCurrentCluster()?.server).toBe(kube.url);
  });

  it('names the file it cannot read', () => {
    const missing = path.join(dir, 'missing.yaml');
    let failure: unknown;
    try {
      loadKubeConfig({ kubeconfig: `${file('ok.yaml', { clusters: [], users: [], contexts: [] })}${path.delimiter}${missing}` });
    } catch (error) {
      failure = error;
    }
    expect(isProviderError(failure) && failure.code).toBe('CONFIGURATION_INVALID');
    expect(failure instanceof Error && failure.message).toContain(missing);
  });
});
