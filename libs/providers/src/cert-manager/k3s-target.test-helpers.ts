// The Testcontainers path of the cert-manager suite: k3s in a container with cert-manager
// applied from its release manifest. Used only when a container runtime answers.
import { KubeConfig, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { parseAllDocuments } from 'yaml';
import { eventually } from '@fsm-certs/testing';

export const K3S_IMAGE = 'rancher/k3s:v1.31.4-k3s1';
export const CERT_MANAGER_MANIFEST = 'https://github.com/cert-manager/cert-manager/releases/download/v1.16.2/cert-manager.yaml';

export interface StartedK3s {
  readonly kubeConfig: KubeConfig;
  stop(): Promise<void>;
}

export async function startK3sWithCertManager(): Promise<StartedK3s> {
  const container: StartedTestContainer = await new GenericContainer(K3S_IMAGE)
    .withPrivilegedMode()
    .withExposedPorts(6443)
    .withTmpFs({ '/run': 'rw', '/var/run': 'rw' })
    .withCommand(['server', '--disable=traefik', '--disable=metrics-server', `--tls-san=${'localhost'}`])
    .withWaitStrategy(Wait.forLogMessage(/Node controller sync successful/))
    .withStartupTimeout(180_000)
    .start();
  const raw = await container.exec(['cat', '/etc/rancher/k3s/k3s.yaml']);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(raw.output.replace(/https:\/\/127\.0\.0\.1:6443/g, `https://${container.getHost()}:${container.getMappedPort(6443)}`));
  await applyManifest(kubeConfig, await (await fetch(CERT_MANAGER_MANIFEST)).text());
  return { kubeConfig, stop: async () => void (await container.stop()) };
}

async function applyManifest(kubeConfig: KubeConfig, manifest: string): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(kubeConfig);
  const objects = parseAllDocuments(manifest)
    .map((document) => document.toJS() as KubernetesObject | null)
    .filter((object): object is KubernetesObject => object !== null && typeof object.kind === 'string');
  for (const object of objects) {
    // CRDs and namespaces first would be nicer; the manifest is already ordered that way.
    await eventually(() => api.create(object).then(() => true, () => undefined), 60_000, `the cluster to accept ${object.kind ?? 'an object'} ${object.metadata?.name ?? ''}`, 2_000);
  }
}
