// Where the cert-manager suite runs, in the order docs/architecture.md (tests) gives: a real cluster from
// KUBECONFIG, else k3s + cert-manager in Testcontainers, else the emulator in libs/testing.
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { CertManagerEmulator, KubernetesEmulator, eventually } from '@fsm-certs/testing';
import { createRootCa } from '@fsm-certs/x509';
import { detectContainerRuntime } from '@fsm-certs/testing';
import { loadKubeConfig } from '../kubeconfig.js';
import { startK3sWithCertManager } from './k3s-target.test-helpers.js';

export interface EmulatorControls {
  readonly kube: KubernetesEmulator;
  readonly certManager: CertManagerEmulator;
}

export interface CertManagerTarget {
  readonly kind: 'kubeconfig' | 'k3s' | 'emulator';
  readonly description: string;
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  /** A ready CA Issuer in `namespace`. */
  readonly issuerName: string;
  readonly caBundleSecretName: string;
  /** ca.crt of the bundle: what workloads trust. */
  readonly caPem: string;
  /** Test hooks (deny / fail / omit status.ca / break the watch): only the emulator has them. */
  readonly controls: EmulatorControls | undefined;
  /** An Issuer (kind CA) whose Secret does not exist: cert-manager never signs for it. */
  readonly stalledIssuerName: string;
  readonly acmeIssuerName: string;
  close(): Promise<void>;
}

const GROUP = 'cert-manager.io';

async function createObjects(kubeConfig: KubeConfig, namespace: string, suffix: string, ca: { certificatePem: string; privateKeyPem: string }): Promise<{ issuerName: string; stalled: string; acme: string; bundle: string }> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const issuerName = `fsm-ca-${suffix}`;
  const bundle = `fsm-ca-bundle-${suffix}`;
  const stalled = `fsm-stalled-${suffix}`;
  const acme = `fsm-acme-${suffix}`;
  await core.createNamespace({ body: { metadata: { name: namespace } } }).catch(() => undefined);
  await core.createNamespacedSecret({
    namespace,
    body: { metadata: { name: `${issuerName}-key-pair` }, type: 'kubernetes.io/tls', stringData: { 'tls.crt': ca.certificatePem, 'tls.key': ca.privateKeyPem } },
  });
  await core.createNamespacedSecret({ namespace, body: { metadata: { name: bundle }, stringData: { 'ca.crt': ca.certificatePem } } });
  const issuer = (name: string, spec: Record<string, unknown>): Promise<unknown> =>
    custom.createNamespacedCustomObject({ group: GROUP, version: 'v1', namespace, plural: 'issuers', body: { apiVersion: 'cert-manager.io/v1', kind: 'Issuer', metadata: { name }, spec } });
  // cert-manager's webhook may still be starting on a fresh cluster: retry the first create.
  await eventually(() => issuer(issuerName, { ca: { secretName: `${issuerName}-key-pair` } }).then(() => true, () => undefined), 120_000, "cert-manager's webhook to accept an Issuer", 2_000);
  await issuer(stalled, { ca: { secretName: `${stalled}-does-not-exist` } });
  await issuer(acme, { acme: { server: 'https://acme.invalid/directory', privateKeySecretRef: { name: `${acme}-account` }, solvers: [{ http01: { ingress: {} } }] } });
  return { issuerName, stalled, acme, bundle };
}

/**
 * Removes what createObjects made (and the ACME account key cert-manager may have generated for
 * the ACME issuer) from a namespace the suite was given rather than created. Everything is tried;
 * what cannot be removed is reported, so a shared namespace is never left quietly littered.
 */
async function removeObjects(kubeConfig: KubeConfig, namespace: string, names: { issuerName: string; stalled: string; acme: string; bundle: string }): Promise<void> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const absent = (error: unknown): boolean => typeof error === 'object' && error !== null && 'code' in error && error.code === 404;
  const failures: string[] = [];
  const attempt = async (what: string, remove: () => Promise<unknown>): Promise<void> => {
    try {
      await remove();
    } catch (error) {
      if (!absent(error)) failures.push(`${what}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    }
  };
  for (const name of [names.issuerName, names.stalled, names.acme]) {
    await attempt(`Issuer ${name}`, () => custom.deleteNamespacedCustomObject({ group: GROUP, version: 'v1', namespace, plural: 'issuers', name }));
  }
  for (const name of [`${names.issuerName}-key-pair`, names.bundle, `${names.acme}-account`]) {
    await attempt(`Secret ${name}`, () => core.deleteNamespacedSecret({ namespace, name }));
  }
  if (failures.length > 0) throw new Error(`could not clean up namespace ${namespace}: ${failures.join('; ')}`);
}

export interface ClusterTargetOptions {
  /** Use this existing namespace (CERT_MANAGER_TEST_NAMESPACE) and remove only our objects from it; default: a fresh namespace, deleted afterwards. */
  readonly namespace?: string | undefined;
}

export async function clusterTarget(
  kind: 'kubeconfig' | 'k3s',
  kubeConfig: KubeConfig,
  description: string,
  stop: () => Promise<void>,
  options: ClusterTargetOptions = {},
): Promise<CertManagerTarget> {
  const suffix = Math.random().toString(36).slice(2, 8);
  const given = options.namespace;
  const namespace = given ?? `fsm-certs-test-${suffix}`;
  const ca = createRootCa({ commonName: `fsm-certs suite CA ${suffix}` });
  const names = await createObjects(kubeConfig, namespace, suffix, ca);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  return {
    kind,
    description,
    kubeConfig,
    namespace,
    issuerName: names.issuerName,
    caBundleSecretName: names.bundle,
    caPem: ca.certificatePem,
    controls: undefined,
    stalledIssuerName: names.stalled,
    acmeIssuerName: names.acme,
    close: async () => {
      try {
        if (given === undefined) await core.deleteNamespace({ name: namespace }).catch(() => undefined);
        else await removeObjects(kubeConfig, namespace, names);
      } finally {
        await stop();
      }
    },
  };
}

async function emulatorTarget(): Promise<CertManagerTarget> {
  const kube = await KubernetesEmulator.start();
  const certManager = CertManagerEmulator.install(kube, { behaviour: { delayMs: 5 } });
  const namespace = 'fsm-system';
  const ca = createRootCa();
  const issuer = certManager.createCaIssuer({ name: 'fsm-ca', namespace, ca });
  certManager.createAcmeIssuer({ name: 'letsencrypt', namespace });
  kube.store.create(certManager.resources.issuers, namespace, {
    apiVersion: 'cert-manager.io/v1',
    kind: 'Issuer',
    metadata: { name: 'stalled', namespace },
    spec: { ca: { secretName: 'stalled-does-not-exist' } },
  });
  kube.store.create(kube.secrets, namespace, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'fsm-ca-bundle', namespace },
    data: { 'ca.crt': Buffer.from(ca.certificatePem).toString('base64') },
  });
  return {
    kind: 'emulator',
    description: `Kubernetes API emulator with simulated cert-manager at ${kube.url} (no KUBECONFIG, no container runtime)`,
    kubeConfig: kube.kubeConfig(),
    namespace,
    issuerName: issuer.metadata.name ?? 'fsm-ca',
    caBundleSecretName: 'fsm-ca-bundle',
    caPem: ca.certificatePem,
    controls: { kube, certManager },
    stalledIssuerName: 'stalled',
    acmeIssuerName: 'letsencrypt',
    close: async () => {
      certManager.stop();
      await kube.close();
    },
  };
}

export async function selectTarget(): Promise<CertManagerTarget> {
  const kubeconfigPath = process.env.KUBECONFIG;
  if (kubeconfigPath !== undefined && kubeconfigPath !== '') {
    const kubeConfig = loadKubeConfig({ kubeconfig: kubeconfigPath });
    return clusterTarget('kubeconfig', kubeConfig, `cluster from KUBECONFIG=${kubeconfigPath} (context ${kubeConfig.getCurrentContext()})`, async () => undefined, {
      namespace: process.env.CERT_MANAGER_TEST_NAMESPACE,
    });
  }
  if (await detectContainerRuntime()) {
    const k3s = await startK3sWithCertManager();
    return clusterTarget('k3s', k3s.kubeConfig, 'k3s + cert-manager in Testcontainers', k3s.stop, { namespace: process.env.CERT_MANAGER_TEST_NAMESPACE });
  }
  return emulatorTarget();
}
