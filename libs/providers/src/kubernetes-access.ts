// The Kubernetes API calls the provider code makes, as RBAC sees them: one table per piece of
// code that calls the API, and providerKubernetesAccess() to pick the rows a configuration uses
// (it mirrors createProvider's switch). The Helm chart grants exactly these (tools/chart-tests
// compares its Roles with them), and kubernetes-access.test.ts runs the code against the
// Kubernetes API emulator and checks that every call it makes is listed here.
import type { FsmConfig } from '@fsm-certs/config';
import type { CertManagerClient } from './cert-manager/client.js';
import { CERT_MANAGER_GROUP, CERTIFICATE_REQUESTS } from './cert-manager/resources.js';
import type { SecretStore } from './secret-store/types.js';

export type KubernetesVerb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete';

/** One verb on one resource, as an RBAC rule grants it. */
export interface KubernetesPermission {
  /** '' is the core group (Secrets). */
  readonly apiGroup: string;
  readonly resource: string;
  readonly verb: KubernetesVerb;
  /**
   * The one object the call names, or undefined for any object: RBAC cannot limit `create` by
   * name (the name is not known when the request is authorized), nor objects whose names the
   * API server generates.
   */
  readonly resourceName: string | undefined;
  /** Cluster-scoped (a ClusterRole); otherwise in the control-plane namespace (a Role). */
  readonly clusterScoped: boolean;
}

export type SecretOperation = Exclude<keyof SecretStore, 'kind'>;

/** KubernetesSecretStore: read/create/replace/deleteNamespacedSecret. */
const SECRET_OPERATION_VERB: Record<SecretOperation, KubernetesVerb> = { get: 'get', create: 'create', update: 'update', delete: 'delete' };

/** TresorProvider.start: load the root, or create the Secret when it is absent; a staged root rotation updates it. */
export const TRESOR_CA_BUNDLE_OPERATIONS: readonly SecretOperation[] = ['get', 'create', 'update'];
/** publishCaBundle (vault/ca-bundle.ts): read, create when absent, replace ca.crt when it changed. */
export const VAULT_CA_BUNDLE_OPERATIONS: readonly SecretOperation[] = ['get', 'create', 'update'];
/** secretTokenSource (vault/token-source.ts): reads the token Secret (again after a 403). */
export const VAULT_TOKEN_SECRET_OPERATIONS: readonly SecretOperation[] = ['get'];
/** CertManagerProvider.readBundle: ca.crt of the bundle Secret, read only. */
export const CERT_MANAGER_CA_BUNDLE_OPERATIONS: readonly SecretOperation[] = ['get'];

type ClientMethod = keyof CertManagerClient;

/** What each KubernetesCertManagerClient method asks the API server for (cert-manager/client.ts). */
export const CERT_MANAGER_CLIENT_CALLS: Readonly<Record<Exclude<ClientMethod, 'getIssuer'>, { readonly resource: string; readonly verb: KubernetesVerb }>> = {
  createCertificateRequest: { resource: CERTIFICATE_REQUESTS, verb: 'create' },
  getCertificateRequest: { resource: CERTIFICATE_REQUESTS, verb: 'get' },
  deleteCertificateRequest: { resource: CERTIFICATE_REQUESTS, verb: 'delete' },
  listCertificateRequests: { resource: CERTIFICATE_REQUESTS, verb: 'list' },
  watchCertificateRequest: { resource: CERTIFICATE_REQUESTS, verb: 'watch' },
};

/**
 * The client methods CertManagerProvider calls: create -> watch (get while polling) -> delete,
 * and getIssuer once, only for issuers of the cert-manager.io group (checkIssuer).
 */
export const CERT_MANAGER_PROVIDER_METHODS: readonly ClientMethod[] = [
  'createCertificateRequest',
  'watchCertificateRequest',
  'getCertificateRequest',
  'deleteCertificateRequest',
  'getIssuer',
];

export type AccessConfig = Pick<FsmConfig, 'caBundleSecretName' | 'certificateProvider' | 'vault' | 'certmanager' | 'secretStore'>;

/** A secret-store caller's table as permissions on that one Secret (create: on any name). */
export function secretStorePermissions(name: string, operations: readonly SecretOperation[]): KubernetesPermission[] {
  return operations.map((operation) => {
    const verb = SECRET_OPERATION_VERB[operation];
    return { apiGroup: '', resource: 'secrets', verb, resourceName: verb === 'create' ? undefined : name, clusterScoped: false };
  });
}

function certManagerPermissions(config: AccessConfig): KubernetesPermission[] {
  const { issuerName, issuerKind, issuerGroup } = config.certmanager;
  return CERT_MANAGER_PROVIDER_METHODS.flatMap((method): KubernetesPermission[] => {
    if (method !== 'getIssuer') {
      const call = CERT_MANAGER_CLIENT_CALLS[method];
      // Requests get server-generated names (generateName): no resourceNames.
      return [{ apiGroup: CERT_MANAGER_GROUP, resource: call.resource, verb: call.verb, resourceName: undefined, clusterScoped: false }];
    }
    if (issuerGroup !== CERT_MANAGER_GROUP) return [];
    const clusterScoped = issuerKind === 'ClusterIssuer';
    return [{ apiGroup: issuerGroup, resource: clusterScoped ? 'clusterissuers' : 'issuers', verb: 'get', resourceName: issuerName, clusterScoped }];
  });
}

/** Every Kubernetes API call the configured provider makes (none with the file store and Tresor or Vault). */
export function providerKubernetesAccess(config: AccessConfig): KubernetesPermission[] {
  const inCluster = config.secretStore.kind === 'kubernetes';
  const bundle = config.caBundleSecretName;
  switch (config.certificateProvider.kind) {
    case 'tresor':
      return inCluster ? secretStorePermissions(bundle, TRESOR_CA_BUNDLE_OPERATIONS) : [];
    case 'vault': {
      if (!inCluster) return [];
      const tokenSecret = config.vault.token === undefined ? config.vault.secret.name : undefined;
      return [...secretStorePermissions(bundle, VAULT_CA_BUNDLE_OPERATIONS), ...(tokenSecret === undefined ? [] : secretStorePermissions(tokenSecret, VAULT_TOKEN_SECRET_OPERATIONS))];
    }
    case 'cert-manager':
      return [...certManagerPermissions(config), ...(inCluster ? secretStorePermissions(bundle, CERT_MANAGER_CA_BUNDLE_OPERATIONS) : [])];
  }
}

/** A stable key per permission, to compare sets. */
export function permissionKey(permission: KubernetesPermission): string {
  return [permission.clusterScoped ? 'cluster' : 'namespace', permission.apiGroup, permission.resource, permission.verb, permission.resourceName ?? '*'].join(' ');
}
