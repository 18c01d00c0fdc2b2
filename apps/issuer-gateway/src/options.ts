// Maps the validated configuration (the `gateway` section from libs/config/src/sections/gateway.ts
// plus the shared sections) onto startIssuerGateway's options.
import type { FsmConfig } from '@fsm-certs/config';
import type { GatewayAppOptions, ServiceAccountAuthOptions } from '@fsm-certs/gateway';

export type GatewaySettings = FsmConfig['gateway'];

/** FSM_KEY_ENCRYPTION_KEY (worker.keyEncryptionKey); undefined lets the secret store provide one. */
export function configuredKek(config: FsmConfig): string | undefined {
  const value = config.worker.keyEncryptionKey;
  return value === undefined || value.trim() === '' ? undefined : value;
}

export function appOptions(config: FsmConfig): GatewayAppOptions {
  const gateway = config.gateway;
  return {
    tokens: gateway.tokens,
    rateLimitPerSec: gateway.rateLimitPerSec,
    bodyLimit: gateway.bodyLimit,
    issueTimeoutMs: gateway.issueTimeoutMs,
    batchWindowMs: gateway.batchWindowMs,
    batchMax: gateway.batchMax,
    batchPipelineDepth: gateway.batchPipelineDepth,
    defaultValidityMs: config.certificateProvider.serviceCertValidityMs,
    trustDomain: config.trustDomain,
    failedAuth: gateway.authFailures,
    sse: gateway.sse,
  };
}

/** gateway.serviceAccountAuth as the ServiceAccount authenticator's options. */
export function serviceAccountAuthOptions(config: FsmConfig): ServiceAccountAuthOptions {
  const sa = config.gateway.serviceAccountAuth;
  return {
    audience: sa.audience,
    trustDomain: config.trustDomain,
    cacheTtlMs: sa.cacheTtlMs,
    names: sa.names,
    ...(sa.policy === undefined ? {} : { policy: sa.policy }),
  };
}
