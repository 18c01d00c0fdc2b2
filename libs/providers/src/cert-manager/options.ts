// Options of the cert-manager provider, with FSM's defaults, validated once at construction.
import { z } from 'zod';
import { ProviderError } from '../errors.js';

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const certManagerOptionsSchema = z.object({
  /** certmanager.issuerName: the [Cluster]Issuer that signs. Default fsm-ca. */
  issuerName: z.string().max(253).regex(DNS1123_SUBDOMAIN, 'must be a Kubernetes object name').default('fsm-ca'),
  /** certmanager.issuerKind. Default Issuer (recommended, in the control-plane namespace). */
  issuerKind: z.enum(['Issuer', 'ClusterIssuer']).default('Issuer'),
  /** certmanager.issuerGroup. Default cert-manager.io (every core issuer type). */
  issuerGroup: z.string().min(1).max(253).regex(DNS1123_SUBDOMAIN, 'must be an API group such as cert-manager.io').default('cert-manager.io'),
  /** Control-plane namespace: CertificateRequests, the Issuer and the CA bundle Secret live here. Default fsm-system. */
  namespace: z.string().max(63).regex(DNS1123_LABEL, 'must be a Kubernetes namespace name').default('fsm-system'),
  /** caBundleSecretName: Secret with ca.crt, used when a request's status.ca is absent. Default fsm-ca-bundle. */
  caBundleSecretName: z.string().max(253).regex(DNS1123_SUBDOMAIN, 'must be a Kubernetes object name').default('fsm-ca-bundle'),
  /** How long to wait for a request to be issued. Default 60 s. */
  timeoutMs: z.number().int().positive().max(3_600_000).default(60_000),
  /** Poll interval when the watch is unavailable. Default 1 s. */
  pollIntervalMs: z.number().int().positive().max(60_000).default(1_000),
});

export type CertManagerOptions = z.input<typeof certManagerOptionsSchema>;
export type ResolvedCertManagerOptions = z.output<typeof certManagerOptionsSchema>;

export function resolveCertManagerOptions(options: CertManagerOptions = {}): ResolvedCertManagerOptions {
  const parsed = certManagerOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue?.path.join('.') ?? '';
    const value = issue === undefined ? undefined : issue.path.reduce<unknown>((at, part) => (typeof at === 'object' && at !== null ? (at as Record<PropertyKey, unknown>)[part] : undefined), options);
    throw new ProviderError(
      'CONFIGURATION_INVALID',
      `cert-manager provider option ${key}=${JSON.stringify(value)} is invalid: ${issue?.message ?? 'rejected'}`,
    );
  }
  return parsed.data;
}
