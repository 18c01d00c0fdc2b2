// Maps the validated configuration onto startIssuerGateway's options. The gateway section
// (libs/config/src/sections/gateway.ts) arrives as `config.gateway` once libs/config composes it;
// until then the process refuses to start with a message saying so, rather than guessing.
import type { FsmConfig } from '@fsm-certs/config';
import type { GatewayAppOptions, TokenGrant } from '@fsm-certs/gateway';

/** The shape of the composed `gateway` config section (tokens already hashed). */
export interface GatewaySettings {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  readonly tokens: readonly TokenGrant[];
  readonly rateLimitPerSec: number;
  readonly bodyLimit: string;
  readonly issueTimeoutMs: number;
  readonly batchWindowMs: number;
  readonly batchMax: number;
}

export class GatewayConfigMissingError extends Error {
  override readonly name = 'GatewayConfigMissingError';
  readonly code = 'GATEWAY_CONFIG_MISSING' as const;
  readonly httpStatus = 500;
  readonly retryable = false;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

export function gatewaySettings(config: FsmConfig): GatewaySettings {
  const section: unknown = (config as FsmConfig & { gateway?: unknown }).gateway;
  if (!isRecord(section) || !Array.isArray(section['tokens']) || typeof section['issueTimeoutMs'] !== 'number') {
    throw new GatewayConfigMissingError(
      'The configuration has no `gateway` section: libs/config must compose gatewaySchema/gatewayEnv from sections/gateway.ts into fsmConfigSchema.',
    );
  }
  return section as unknown as GatewaySettings;
}

/** FSM_KEY_ENCRYPTION_KEY from the worker section when composed; undefined lets the store provide one. */
export function configuredKek(config: FsmConfig, env: NodeJS.ProcessEnv): string | undefined {
  const worker: unknown = (config as FsmConfig & { worker?: unknown }).worker;
  if (isRecord(worker) && typeof worker['keyEncryptionKey'] === 'string') return worker['keyEncryptionKey'];
  const raw = env['FSM_KEY_ENCRYPTION_KEY'];
  return raw === undefined || raw.trim() === '' ? undefined : raw;
}

export function appOptions(config: FsmConfig, gateway: GatewaySettings): GatewayAppOptions {
  return {
    tokens: gateway.tokens,
    rateLimitPerSec: gateway.rateLimitPerSec,
    bodyLimit: gateway.bodyLimit,
    issueTimeoutMs: gateway.issueTimeoutMs,
    batchWindowMs: gateway.batchWindowMs,
    batchMax: gateway.batchMax,
    defaultValidityMs: config.certificateProvider.serviceCertValidityMs,
    trustDomain: config.trustDomain,
  };
}
