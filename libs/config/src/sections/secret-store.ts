// secretStore.*: where the CA bundle secret (and a stored key-encryption key) lives — Kubernetes
// Secrets in a cluster, files otherwise. Unset, the kind follows the environment: a process that
// can reach a cluster (a pod's service-account token, or KUBECONFIG) uses Kubernetes Secrets, so
// what an operator creates with kubectl is what fsm-certs reads; a developer machine without
// KUBECONFIG keeps the embedded file store under dataDir.
import { z } from 'zod';
import type { EnvBinding } from './env-binding.js';

export const SECRET_STORE_KINDS = ['file', 'kubernetes'] as const;
export type SecretStoreKind = (typeof SECRET_STORE_KINDS)[number];

/** Where the kubelet mounts a pod's service-account token. */
export const SERVICE_ACCOUNT_TOKEN_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export interface SecretStoreEnvironment {
  /** KUBECONFIG / kubeconfig, when set. */
  readonly kubeconfig: string | undefined;
  /** A service-account token is mounted (the process runs in a pod). */
  readonly inPod: boolean;
}

/** The store used when secretStore.kind (FSM_SECRET_STORE) is not given. */
export function defaultSecretStoreKind(environment: SecretStoreEnvironment): SecretStoreKind {
  const hasKubeconfig = environment.kubeconfig !== undefined && environment.kubeconfig !== '';
  return environment.inPod || hasKubeconfig ? 'kubernetes' : 'file';
}

export const secretStoreSchema = z
  .strictObject({
    kind: z.enum(SECRET_STORE_KINDS).default('file'),
    dataDir: z.string().min(1, { error: 'a directory path; secrets go under <dataDir>/secrets' }).default('.data'),
  })
  .prefault({});

export const secretStoreEnv: readonly EnvBinding[] = [
  { env: 'FSM_SECRET_STORE', path: ['secretStore', 'kind'] },
  { env: 'FSM_DATA_DIR', path: ['secretStore', 'dataDir'] },
];
