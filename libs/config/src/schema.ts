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
 * Jobs the gateway's batcher keeps in flight unless GATEWAY_BATCH_PIPELINE_DEPTH says: 2 where the
 * ca-service signs itself (one job signs while the other travels), 1 for Vault, whose ca-service
 * only waits for Vault (each job's items are already issued concurrently) so a second job buys no
 * overlap and doubles the per-job queue and inventory work. In three bench:issue runs, 1 reached a
 * higher median share of vault-direct than 2 in the same rounds (tools/bench/README.md).
 * Depth 1 with Tresor makes bigger jobs only for clients in lockstep (bench:issue's closed loop);
 * under random arrivals the jobs are the same size at either depth, and depth 1 raised the
 * light-load p50 ("open"); with the idle-pipeline rule it still did when jobs are slow (a job in
 * flight makes a sparse arrival wait for the window more often at depth 1: "depth1b"), so 2 stays.
 */
export const DEFAULT_BATCH_PIPELINE_DEPTH = { vault: 1, other: 2 } as const;

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
    const batchPipelineDepth = depth ?? (config.certificateProvider.kind === 'vault' ? DEFAULT_BATCH_PIPELINE_DEPTH.vault : DEFAULT_BATCH_PIPELINE_DEPTH.other);
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
