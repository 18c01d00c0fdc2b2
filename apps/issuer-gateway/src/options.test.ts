import { describe, expect, it } from 'vitest';
import { fsmConfigSchema, type FsmConfig } from '@fsm-certs/config';
import { appOptions, configuredKek, gatewaySettings, type GatewaySettings } from './options.js';

const settings: GatewaySettings = {
  host: '127.0.0.1',
  port: 8080,
  tls: false,
  tokens: [{ name: 'admin', sha256: 'a'.repeat(64), scopes: ['admin'], names: ['*'] }],
  rateLimitPerSec: 200,
  bodyLimit: '64kb',
  issueTimeoutMs: 30_000,
  batchWindowMs: 2,
  batchMax: 64,
};

function base(): FsmConfig {
  return fsmConfigSchema.parse({ certificateProvider: { serviceCertValidityDuration: '1h30m' }, trustDomain: 'mesh.local' });
}

describe('issuer-gateway configuration mapping', () => {
  it('refuses to start without a gateway section, saying what is missing', () => {
    const { gateway: _dropped, ...config } = base() as FsmConfig & { gateway?: unknown };
    expect(() => gatewaySettings(config as FsmConfig)).toThrow(expect.objectContaining({ code: 'GATEWAY_CONFIG_MISSING', message: expect.stringMatching(/gatewaySchema/) }));
  });

  it('takes the composed gateway section as it is', () => {
    const config = { ...base(), gateway: settings } as FsmConfig;
    expect(gatewaySettings(config)).toBe(settings);
  });

  it('fills the default validity and trust domain from the shared sections', () => {
    const options = appOptions(base(), settings);
    expect(options.defaultValidityMs).toBe(90 * 60_000);
    expect(options.trustDomain).toBe('mesh.local');
    expect(options.tokens).toBe(settings.tokens);
  });

  it('prefers the configured KEK, then the environment, else leaves it to the secret store', () => {
    const kek = 'A'.repeat(43) + '=';
    expect(configuredKek({ ...base(), worker: { keyEncryptionKey: kek } } as FsmConfig, {})).toBe(kek);
    expect(configuredKek(base(), { FSM_KEY_ENCRYPTION_KEY: kek })).toBe(kek);
    expect(configuredKek(base(), { FSM_KEY_ENCRYPTION_KEY: ' ' })).toBeUndefined();
  });
});
