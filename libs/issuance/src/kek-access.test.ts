// kekKubernetesAccess() is what the Helm chart grants for the key-encryption key; it must cover
// every call loadOrCreateKek makes with the Kubernetes secret store (recorded at the emulator).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubernetesSecretStore, permissionKey } from '@fsm-certs/providers';
import { generateKek } from '@fsm-certs/queue';
import { KubernetesEmulator } from '@fsm-certs/testing';
import { KEK_SECRET_KEY, KEK_SECRET_NAME, kekKubernetesAccess, loadOrCreateKek } from './kek.js';

const NAMESPACE = 'fsm-system';
let kube: KubernetesEmulator;
let requests: string[];

beforeEach(async () => {
  kube = await KubernetesEmulator.start();
  requests = [];
  kube.addInterceptor((request) => {
    requests.push(`${request.method} ${request.path}`);
    return undefined;
  });
});
afterEach(() => kube.close());

describe('the key-encryption key in a cluster', () => {
  it('is read from the Secret fsm-certs-kek with one GET, the only call kekKubernetesAccess declares', async () => {
    const kek = generateKek();
    kube.store.create(kube.secrets, NAMESPACE, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: KEK_SECRET_NAME, namespace: NAMESPACE },
      data: { [KEK_SECRET_KEY]: Buffer.from(kek.base64).toString('base64') },
    });
    const loaded = await loadOrCreateKek({ configured: undefined, store: new KubernetesSecretStore({ kubeConfig: kube.kubeConfig() }), namespace: NAMESPACE });
    expect(loaded.source).toBe('secret-store');
    expect(requests).toEqual([`GET /api/v1/namespaces/${NAMESPACE}/secrets/${KEK_SECRET_NAME}`]);
    expect(kekKubernetesAccess({ configured: undefined, storeKind: 'kubernetes' }).map(permissionKey)).toEqual([`namespace  secrets get ${KEK_SECRET_NAME}`]);
  });

  it('is never created through the Kubernetes API when the Secret is missing', async () => {
    await expect(loadOrCreateKek({ configured: undefined, store: new KubernetesSecretStore({ kubeConfig: kube.kubeConfig() }), namespace: NAMESPACE })).rejects.toThrow(/FSM_KEY_ENCRYPTION_KEY/);
    expect(requests.filter((r) => !r.startsWith('GET '))).toEqual([]);
  });

  it('needs no Kubernetes access at all when FSM_KEY_ENCRYPTION_KEY is set', async () => {
    await loadOrCreateKek({ configured: generateKek().base64, store: new KubernetesSecretStore({ kubeConfig: kube.kubeConfig() }), namespace: NAMESPACE });
    expect(requests).toEqual([]);
    expect(kekKubernetesAccess({ configured: generateKek().base64, storeKind: 'kubernetes' })).toEqual([]);
  });
});
