// certmanager.*: which cert-manager issuer signs our CertificateRequests, and how long we wait.
import { z } from 'zod';
import { parseDurationMs } from '@fsm-certs/core';
import type { EnvBinding } from './env-binding.js';
import { goDuration } from './go-duration.js';

export const certmanagerSchema = z
  .strictObject({
    issuerName: z.string().min(1, { error: 'the name of an Issuer or ClusterIssuer' }).default('fsm-ca'),
    issuerKind: z.enum(['Issuer', 'ClusterIssuer']).default('Issuer'),
    issuerGroup: z.string().min(1, { error: 'an API group such as cert-manager.io' }).default('cert-manager.io'),
    timeout: goDuration('a Go duration of at least 1s, e.g. 60s', 1000).default('60s'),
  })
  .prefault({})
  .transform((section) => ({ ...section, timeoutMs: parseDurationMs(section.timeout) }));

export const certmanagerEnv: readonly EnvBinding[] = [
  { env: 'CERTMANAGER_ISSUER_NAME', path: ['certmanager', 'issuerName'] },
  { env: 'CERTMANAGER_ISSUER_KIND', path: ['certmanager', 'issuerKind'] },
  { env: 'CERTMANAGER_ISSUER_GROUP', path: ['certmanager', 'issuerGroup'] },
  { env: 'CERTMANAGER_TIMEOUT', path: ['certmanager', 'timeout'] },
];
