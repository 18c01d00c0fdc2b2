// The suite's own footprint on a real cluster: given a namespace it does not own
// (CERT_MANAGER_TEST_NAMESPACE), it removes every Issuer and Secret it made and nothing else.
// The cluster here is the emulator reached through a kubeconfig, as a real one would be.
import { CustomObjectsApi } from '@kubernetes/client-node';
import { CertManagerEmulator, KubernetesEmulator } from '@fsm-certs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterTarget } from './targets.test-helpers.js';

let kube: KubernetesEmulator;
let certManager: CertManagerEmulator;

beforeAll(async () => {
  kube = await KubernetesEmulator.start();
  certManager = CertManagerEmulator.install(kube);
});
afterAll(async () => {
  certManager.stop();
  await kube.close();
});

function names(kind: 'secrets' | 'issuers', namespace: string): string[] {
  const def = kind === 'secrets' ? kube.secrets : certManager.resources.issuers;
  return kube.store.list(def, { namespace }).items.map((item) => item.metadata.name ?? '').sort();
}

describe('the cert-manager suite in a namespace it was given (CERT_MANAGER_TEST_NAMESPACE)', () => {
  it("removes its Issuers and Secrets afterwards and leaves the namespace's own", async () => {
    const namespace = 'shared-tests';
    kube.store.create(kube.secrets, namespace, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'operator-owned', namespace }, data: {} });
    const target = await clusterTarget('kubeconfig', kube.kubeConfig(), 'emulator through a kubeconfig', async () => undefined, { namespace });
    expect(target.namespace).toBe(namespace);
    expect(names('issuers', namespace)).toHaveLength(3);
    // cert-manager keeps an ACME account key in the Secret the ACME issuer names: ours too.
    kube.store.create(kube.secrets, namespace, { apiVersion: 'v1', kind: 'Secret', metadata: { name: `${target.acmeIssuerName}-account`, namespace }, data: {} });
    expect(names('secrets', namespace).length).toBeGreaterThan(1);
    await target.close();
    expect(names('issuers', namespace)).toEqual([]);
    expect(names('secrets', namespace)).toEqual(['operator-owned']);
    const custom = kube.kubeConfig().makeApiClient(CustomObjectsApi);
    const listed = (await custom.listNamespacedCustomObject({ group: 'cert-manager.io', version: 'v1', namespace, plural: 'issuers' })) as { items: unknown[] };
    expect(listed.items).toEqual([]);
  });
});
