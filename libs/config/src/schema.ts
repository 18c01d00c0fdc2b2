// The one configuration schema, composed from one file per section (sections/*.ts). To add a
// section (gateway, worker, ...): write sections/<name>.ts exporting `<name>Schema` (with
// .prefault({}) so it may be omitted) and `<name>Env` bindings, then add both below.
import { z } from 'zod';
import { formatDuration } from '@fsm-certs/core';
import { caBundleSecretNameSchema, coreEnv, kubeconfigSchema, namespaceSchema, trustDomainSchema } from './sections/core.js';
import { certificateProviderEnv, certificateProviderSchema } from './sections/certificate-provider.js';
import { certmanagerEnv, certmanagerSchema } from './sections/certmanager.js';
import type { EnvBinding } from './sections/env-binding.js';
import { gatewayEnv, gatewaySchema } from './sections/gateway.js';
import { healthEnv, healthSchema } from './sections/health.js';
import { effectiveIssueTimeoutMs, issueTimeoutProblem, type IssueTimeoutInputs } from './sections/issue-timeout.js';
import { redisEnv, redisSchema } from './sections/redis.js';
import { secretStoreEnv, secretStoreSchema } from './sections/secret-store.js';
import { vaultEnv, vaultSchema } from './sections/vault.js';
import { workerEnv, workerSchema } from './sections/worker.js';

function issueTimeoutInputs(config: {
  readonly certificateProvider: { readonly kind: string };
  readonly certmanager: { readonly timeoutMs: number };
  readonly gateway: { readonly issueTimeout: { readonly ms: number } | undefined };
}): IssueTimeoutInputs {
  return { providerKind: config.certificateProvider.kind, certManagerTimeoutMs: config.certmanager.timeoutMs, explicitMs: config.gateway.issueTimeout?.ms };
}

/**
 * Jobs the gateway's batcher aims to keep in flight unless GATEWAY_BATCH_PIPELINE_DEPTH says: 1
 * with every provider. Clients that wait for their answers (bench:issue's closed loop) then ride
 * one job of about the whole demand instead of two of half, so the per-job queue and inventory
 * work is paid less often: idle, jobs of 13-15 items against 8.3-8.7 and the servers' CPU per
 * certificate 307 against 351 µs (tools/bench/README.md, "open"); on a shared machine bigger jobs
 * in 29 of 32 same-run rounds and lower CPU in 21 of 32 ("depth1b"). One client is the same code
 * path (demand 1, share 1), and under random arrivals the latency stayed within the same-run A/A
 * spread now that an idle pipeline under sparse arrivals does not wait for company (before that
 * rule depth 1 raised the light-load p50, "open"). Vault's ca-service only waits for Vault (a
 * job's items are issued concurrently), so a second job never bought it overlap either.
 */
export const DEFAULT_BATCH_PIPELINE_DEPTH = 1;

export const fsmConfigSchema = z
  .strictObject({
    namespace: namespaceSchema,
    trustDomain: trustDomainSchema,
    caBundleSecretName: caBundleSecretNameSchema,
    kubeconfig: kubeconfigSchema,
    certificateProvider: certificateProviderSchema.prefault({}),
    vault: vaultSchema,
    certmanager: certmanagerSchema,
    secretStore: secretStoreSchema,
    redis: redisSchema,
    gateway: gatewaySchema,
    worker: workerSchema,
    health: healthSchema,
  })
  .superRefine((config, ctx) => {
    const tooShort = issueTimeoutProblem(issueTimeoutInputs(config));
    if (tooShort !== undefined) ctx.addIssue({ code: 'custom', path: ['gateway', 'issueTimeout'], message: tooShort });
    if (config.certificateProvider.kind !== 'vault') return;
    if (config.vault.host === undefined) {
      ctx.addIssue({ code: 'custom', path: ['vault', 'host'], message: 'required when certificateProvider.kind is vault (a host name such as vault.fsm-system.svc.cluster.local)' });
    }
    const { name, key } = config.vault.secret;
    if (config.vault.token === undefined && (name === undefined || key === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['vault', 'token'],
        message:
          'required when certificateProvider.kind is vault: set vault.token (VAULT_TOKEN), or both vault.secret.name and vault.secret.key (VAULT_TOKEN_SECRET_NAME / VAULT_TOKEN_SECRET_KEY)',
      });
    }
  })
  .transform((config) => {
    // The one place the gateway's wait is settled (derived from the provider's unless given).
    const issueTimeoutMs = effectiveIssueTimeoutMs(issueTimeoutInputs(config));
    const { issueTimeout: _given, batchPipelineDepth: depth, ...gateway } = config.gateway;
    const batchPipelineDepth = depth ?? DEFAULT_BATCH_PIPELINE_DEPTH;
    return { ...config, gateway: { ...gateway, batchPipelineDepth, issueTimeout: formatDuration(issueTimeoutMs), issueTimeoutMs } };
  });

export type FsmConfig = z.output<typeof fsmConfigSchema>;
export type FsmConfigInput = z.input<typeof fsmConfigSchema>;

/** Every environment variable we read, in precedence order (a later binding for the same key wins). */
export const ENV_BINDINGS: readonly EnvBinding[] = [
  ...coreEnv,
  ...certificateProviderEnv,
  ...vaultEnv,
  ...certmanagerEnv,
  ...secretStoreEnv,
  ...redisEnv,
  ...gatewayEnv,
  ...workerEnv,
  ...healthEnv,
];
