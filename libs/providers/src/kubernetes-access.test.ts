// The table in kubernetes-access.ts must list every Kubernetes API call the provider code makes,
// since the Helm chart grants exactly that table. Each test runs real provider code against the
// Kubernetes API emulator, records each request as the API server's authorizer sees it (verb,
// group, resource, name), and compares with providerKubernetesAccess() for that configuration.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '@fsm-certs/config';
import { CertManagerEmulator, KubernetesEmulator, parseApiPath, type InterceptedRequest } from '@fsm-certs/testing';
import { createRootCa } from '@fsm-certs/x509';
import { createCertManagerProvider } from './cert-manager/provider.js';
import { permissionKey, providerKubernetesAccess, type KubernetesPermission, type KubernetesVerb } from './kubernetes-access.js';
import { KubernetesSecretStore } from './secret-store/kubernetes-store.js';
import { TresorProvider } from './tresor/tresor-provider.js';
import { publishCaBundle } from './vault/ca-bundle.js';
import { secretTokenSource } from './vault/token-source.js';

const NAMESPACE = 'fsm-system';

/** The request as RBAC authorizes it (k8s.io/apiserver RequestInfo): verb from method and query. */
function asPermission(request: InterceptedRequest): KubernetesPermission | undefined {
  const path = parseApiPath(request.path);
  if (path === undefined) return undefined;
  const watch = request.query.get('watch') === 'true' || request.query.get('watch') === '1';
  const verbs: Record<string, KubernetesVerb> = { POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };
  const verb: KubernetesVerb | undefined = request.method === 'GET' ? (watch ? 'watch' : path.name === undefined ? 'list' : 'get') : verbs[request.method];
  if (verb === undefined) return undefined;
  const fieldName = /^metadata\.name=(.+)$/.exec(request.query.get('fieldSelector') ?? '')?.[1];
  return { apiGroup: path.group, resource: path.plural, verb, resourceName: path.name ?? fieldName, clusterScoped: path.namespace === undefined };
}

/** Granted when a declared permission has the same verb on the resource, for that name or any. */
function covers(declared: readonly KubernetesPermission[], made: KubernetesPermission): boolean {
  return declared.some(
    (d) =>
      d.apiGroup === made.apiGroup &&
      d.resource === made.resource &&
      d.verb === made.verb &&
      d.clusterScoped === made.clusterScoped &&
      (d.resourceName === undefined || d.resourceName === made.resourceName),
  );
}

let kube: KubernetesEmulator;
let calls: KubernetesPermission[];

beforeEach(async () => {
  kube = await KubernetesEmulator.start();
  calls = [];
  kube.addInterceptor((request) => {
    const permission = asPermission(request);
    if (permission !== undefined) calls.push(permission);
    return undefined;
  });
});
afterEach(() => kube.close());

function configFor(env: Record<string, string>) {
  return loadConfig({ env: { FSM_SECRET_STORE: 'kubernetes', FSM_NAMESPACE: NAMESPACE, ...env } });
}

function expectAllDeclared(declared: readonly KubernetesPermission[]): void {
  expect(calls.length).toBeGreaterThan(0);
  const undeclared = calls.filter((call) => !covers(declared, call)).map(permissionKey);
  expect(undeclared).toEqual([]);
}

function verbsMade(): string[] {
  return [...new Set(calls.map((c) => `${c.resource} ${c.verb}`))].sort();
}

describe('the Kubernetes calls of the providers are the ones kubernetes-access.ts declares', () => {
  it('Tresor reads the CA bundle Secret, creates it when absent, and updates it in a staged root rotation, nothing else', async () => {
    const config = configFor({ CERT_MANAGER: 'tresor', FSM_CA_BUNDLE_SECRET_NAME: 'mesh-root' });
    const store = new KubernetesSecretStore({ kubeConfig: kube.kubeConfig() });
    const provider = await TresorProvider.start({ store, namespace: NAMESPACE, secretName: 'mesh-root' });
    await TresorProvider.start({ store, namespace: NAMESPACE, secretName: 'mesh-root' });
    await provider.applyRotationStep({ kind: 'prepare', propagationMs: 5_000, spreadMs: 5_000, auto: false }, 0);
    await provider.reload();
    const declared = providerKubernetesAccess(config);
    expectAllDeclared(declared);
    expect(verbsMade()).toEqual(['secrets create', 'secrets get', 'secrets update']);
    expect(declared.map(permissionKey).sort()).toEqual(['namespace  secrets create *', 'namespace  secrets get mesh-root', 'namespace  secrets update mesh-root']);
  });

  it('Vault publishes its root into the CA bundle Secret (create, then update) and reads its token Secret', async () => {
    const config = configFor({ CERT_MANAGER: 'vault', VAULT_HOST: 'vault.example', VAULT_TOKEN_SECRET_NAME: 'vault-token', VAULT_TOKEN_SECRET_KEY: 'token' });
    const store = new KubernetesSecretStore({ kubeConfig: kube.kubeConfig() });
    const bundle = { namespace: NAMESPACE, name: 'fsm-ca-bundle' };
    expect(await publishCaBundle(store, bundle, createRootCa().certificatePem)).toBe('created');
    expect(await publishCaBundle(store, bundle, createRootCa().certificatePem)).toBe('updated');
    kube.store.create(kube.secrets, NAMESPACE, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'vault-token', namespace: NAMESPACE }, data: { token: Buffer.from('s.token').toString('base64') } });
    expect(await secretTokenSource(store, { namespace: NAMESPACE, name: 'vault-token' }, 'token').read()).toBe('s.token');
    const declared = providerKubernetesAccess(config);
    expectAllDeclared(declared);
    expect(verbsMade()).toEqual(['secrets create', 'secrets get', 'secrets update']);
    expect(declared.map(permissionKey).sort()).toEqual([
      'namespace  secrets create *',
      'namespace  secrets get fsm-ca-bundle',
      'namespace  secrets get vault-token',
      'namespace  secrets update fsm-ca-bundle',
    ]);
  });

  it('Vault with the token given directly reads no token Secret', () => {
    const config = configFor({ CERT_MANAGER: 'vault', VAULT_HOST: 'vault.example', VAULT_TOKEN: 's.direct', VAULT_TOKEN_SECRET_NAME: 'unused', VAULT_TOKEN_SECRET_KEY: 'token' });
    expect(providerKubernetesAccess(config).some((p) => p.resourceName === 'unused')).toBe(false);
  });

  for (const issuerKind of ['Issuer', 'ClusterIssuer'] as const) {
    it(`cert-manager with ${issuerKind === 'Issuer' ? 'an' : 'a'} ${issuerKind} creates, watches and deletes CertificateRequests and reads the ${issuerKind} and the CA bundle`, async () => {
      const certManager = CertManagerEmulator.install(kube, { behaviour: { delayMs: 5 } });
      try {
        const ca = createRootCa();
        certManager.createCaIssuer({ name: 'mesh-ca', namespace: NAMESPACE, kind: issuerKind, ca });
        const config = configFor({ CERT_MANAGER: 'cert-manager', CERTMANAGER_ISSUER_NAME: 'mesh-ca', CERTMANAGER_ISSUER_KIND: issuerKind });
        const provider = await createCertManagerProvider({
          kubeConfig: kube.kubeConfig(),
          secrets: new KubernetesSecretStore({ kubeConfig: kube.kubeConfig() }),
          namespace: NAMESPACE,
          issuerName: 'mesh-ca',
          issuerKind,
          issuerGroup: 'cert-manager.io',
        });
        try {
          const issued = await provider.issue({
            commonName: 'bookstore-v2.bookstore.cluster.local',
            dnsNames: [],
            uris: [],
            ipAddresses: [],
            validityMs: 3_600_000,
            keyAlgorithm: 'ecdsa-p256',
          });
          expect(issued.certificatePem).toContain('BEGIN CERTIFICATE');
        } finally {
          await provider.close();
        }
        const declared = providerKubernetesAccess(config);
        expectAllDeclared(declared);
        const issuerResource = issuerKind === 'Issuer' ? 'issuers' : 'clusterissuers';
        expect(verbsMade()).toEqual(expect.arrayContaining(['certificaterequests create', 'certificaterequests delete', 'certificaterequests watch', `${issuerResource} get`]));
        expect(declared.filter((p) => p.resource === issuerResource).map(permissionKey)).toEqual([
          `${issuerKind === 'Issuer' ? 'namespace' : 'cluster'} cert-manager.io ${issuerResource} get mesh-ca`,
        ]);
      } finally {
        certManager.stop();
      }
    });
  }

  it('cert-manager with an external issuer group never reads the issuer object', () => {
    const config = configFor({ CERT_MANAGER: 'cert-manager', CERTMANAGER_ISSUER_GROUP: 'awspca.cert-manager.io' });
    expect(providerKubernetesAccess(config).filter((p) => p.resource.endsWith('issuers'))).toEqual([]);
  });

  it('the file secret store makes no Kubernetes calls for Tresor and Vault', () => {
    const env = { FSM_SECRET_STORE: 'file', VAULT_HOST: 'vault.example', VAULT_TOKEN: 's.x' };
    expect(providerKubernetesAccess(loadConfig({ env: { ...env, CERT_MANAGER: 'tresor' } }))).toEqual([]);
    expect(providerKubernetesAccess(loadConfig({ env: { ...env, CERT_MANAGER: 'vault' } }))).toEqual([]);
  });
});
