// Where the mesh control plane lives: namespace, trust domain, the CA bundle secret, kubeconfig.
import { z } from 'zod';
import type { EnvBinding } from './env-binding.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const namespaceSchema = z
  .string()
  .max(63)
  .regex(DNS_LABEL, { error: 'a Kubernetes namespace name (lower-case letters, digits and "-", at most 63 characters)' })
  .default('fsm-system');

export const trustDomainSchema = z
  .string()
  .max(253)
  .regex(DNS_SUBDOMAIN, { error: 'a DNS domain such as cluster.local' })
  .default('cluster.local');

export const caBundleSecretNameSchema = z
  .string()
  .max(253)
  .regex(DNS_SUBDOMAIN, { error: 'a Kubernetes Secret name (lower-case letters, digits, "-" and ".")' })
  .default('fsm-ca-bundle');

export const kubeconfigSchema = z.string().min(1, { error: 'a path to a kubeconfig file' }).optional();

export const coreEnv: readonly EnvBinding[] = [
  // FSM's development name first; FSM_NAMESPACE wins when both are set (later bindings override).
  { env: 'K8S_NAMESPACE', path: ['namespace'] },
  { env: 'FSM_NAMESPACE', path: ['namespace'] },
  { env: 'FSM_TRUST_DOMAIN', path: ['trustDomain'] },
  { env: 'FSM_CA_BUNDLE_SECRET_NAME', path: ['caBundleSecretName'] },
  { env: 'KUBECONFIG', path: ['kubeconfig'] },
];
