// Least privilege: for every option combination, the permissions the chart binds to each app's
// ServiceAccount equal the Kubernetes calls that app makes with the configuration the chart gives
// it (APP_KUBERNETES_ACCESS over the tables next to the calling code). Nothing more, nothing less.
import { loadConfig } from '@fsm-certs/config';
import { permissionKey } from '@fsm-certs/providers';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { APP_KUBERNETES_ACCESS, CHART_APPS } from './app-access.js';
import { COMBINATIONS, OPERATOR_SECRETS } from './combinations.js';
import { render } from './helm.js';
import { byKind, grantedTo, mainContainer, resolvedEnv, workload, workloads } from './manifests.js';

const NAMESPACE = 'fsm-system';
const serviceAccountSchema = z.looseObject({ automountServiceAccountToken: z.boolean().optional() });
const clusterRoleSchema = z.looseObject({ rules: z.array(z.object({ resources: z.array(z.string()) })) });
const bindingSchema = z.looseObject({ roleRef: z.object({ kind: z.string() }) });

function keys(permissions: ReadonlyArray<Parameters<typeof permissionKey>[0]>): string[] {
  return [...new Set(permissions.map(permissionKey))].sort();
}

describe.each(Object.entries(COMBINATIONS))('RBAC with %s', (_name, set) => {
  const objects = render({ set });

  it.each(CHART_APPS)('grants %s exactly the Kubernetes calls it makes', (app) => {
    const deployment = workload(objects, 'Deployment', `fsm-certs-${app}`);
    const pod = deployment.spec.template.spec;
    expect(pod.serviceAccountName).toBe(`fsm-certs-${app}`);
    const env = resolvedEnv(objects, mainContainer(deployment), NAMESPACE, OPERATOR_SECRETS);
    const needed = keys(APP_KUBERNETES_ACCESS[app](loadConfig({ env }), env));
    expect(keys(grantedTo(objects, `fsm-certs-${app}`, NAMESPACE))).toEqual(needed);
    // A pod gets an API token only when its app calls the API.
    expect(pod.automountServiceAccountToken).toBe(needed.length > 0);
  });

  it('gives each workload its own ServiceAccount, none of which mounts a token by default', () => {
    const accounts = byKind(objects, 'ServiceAccount');
    for (const account of accounts) expect(serviceAccountSchema.parse(account).automountServiceAccountToken).toBe(false);
    const used = workloads(objects).map((w) => w.spec.template.spec.serviceAccountName);
    expect(new Set(used).size).toBe(used.length);
    expect(used.every((name) => accounts.some((a) => a.metadata.name === name))).toBe(true);
  });

  it('uses a ClusterRole only for cluster-scoped objects (TokenReviews, a ClusterIssuer)', () => {
    const clusterResources = byKind(objects, 'ClusterRole').flatMap((role) => clusterRoleSchema.parse(role).rules.flatMap((r) => r.resources));
    expect(clusterResources.filter((r) => r !== 'tokenreviews' && r !== 'clusterissuers')).toEqual([]);
    expect(byKind(objects, 'RoleBinding').map((b) => bindingSchema.parse(b).roleRef.kind)).not.toContain('ClusterRole');
  });
});

describe('what the least privilege looks like', () => {
  it('with Tresor: the ca-service reads the CA bundle and the key-encryption key, may create Secrets and update the CA bundle (staged root rotation); the gateway reads the key-encryption key', () => {
    const objects = render({ set: {} });
    expect(keys(grantedTo(objects, 'fsm-certs-ca-service', NAMESPACE))).toEqual([
      'namespace  secrets create *',
      'namespace  secrets get fsm-ca-bundle',
      'namespace  secrets get fsm-certs-kek',
      'namespace  secrets update fsm-ca-bundle',
    ]);
    expect(keys(grantedTo(objects, 'fsm-certs-issuer-gateway', NAMESPACE))).toEqual(['namespace  secrets get fsm-certs-kek']);
    expect(grantedTo(objects, 'fsm-certs-rotation-worker', NAMESPACE)).toEqual([]);
  });

  it('with cert-manager and a ClusterIssuer: CertificateRequests in the namespace, that one ClusterIssuer, and no Secret writes', () => {
    const objects = render({ set: { 'fsm.certificateProvider.kind': 'cert-manager', 'fsm.certmanager.issuerKind': 'ClusterIssuer', 'fsm.certmanager.issuerName': 'mesh-root' } });
    expect(keys(grantedTo(objects, 'fsm-certs-ca-service', NAMESPACE))).toEqual([
      'cluster cert-manager.io clusterissuers get mesh-root',
      'namespace  secrets get fsm-ca-bundle',
      'namespace  secrets get fsm-certs-kek',
      'namespace cert-manager.io certificaterequests create *',
      'namespace cert-manager.io certificaterequests delete *',
      'namespace cert-manager.io certificaterequests get *',
      'namespace cert-manager.io certificaterequests watch *',
    ]);
  });

  it('with ServiceAccount tokens: the gateway may create TokenReviews cluster-wide, the one cluster-wide grant', () => {
    const objects = render({ set: { 'auth.serviceAccountTokens.enabled': 'true' } });
    expect(keys(grantedTo(objects, 'fsm-certs-issuer-gateway', NAMESPACE))).toContain('cluster authentication.k8s.io tokenreviews create *');
  });
});
