import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { loadConfig } from '@fsm-certs/config';
import { appOptions, configuredKek } from './options.js';

const sha = (t: string): string => createHash('sha256').update(t).digest('hex');

describe('issuer-gateway configuration mapping', () => {
  it('maps GATEWAY_* variables, hashing tokens, and fills validity and trust domain from the shared sections', () => {
    const config = loadConfig({
      env: {
        GATEWAY_ADMIN_TOKEN: 'admin-token-0123456789',
        GATEWAY_TOKENS: JSON.stringify([{ name: 'app', token: 'app-token-0123456789', scopes: ['issue'], names: ['*.ns.cluster.local'] }]),
        GATEWAY_RATE_LIMIT_PER_SEC: '200',
        GATEWAY_ISSUE_TIMEOUT: '5s',
        GATEWAY_BATCH_WINDOW_MS: '3',
        FSM_SERVICE_CERT_VALIDITY: '1h30m',
        FSM_TRUST_DOMAIN: 'mesh.local',
      },
    });
    const options = appOptions(config);
    expect(options).toMatchObject({ rateLimitPerSec: 200, issueTimeoutMs: 5_000, batchWindowMs: 3, batchMax: 64, bodyLimit: '64kb', defaultValidityMs: 90 * 60_000, trustDomain: 'mesh.local' });
    expect(options.tokens).toEqual([
      { name: 'app', sha256: sha('app-token-0123456789'), scopes: ['issue'], names: ['*.ns.cluster.local'] },
      { name: 'admin', sha256: sha('admin-token-0123456789'), scopes: ['admin', 'issue', 'read'], names: ['*'] },
    ]);
    expect(JSON.stringify(config.gateway)).not.toContain('token-0123456789');
  });

  it('takes the KEK from FSM_KEY_ENCRYPTION_KEY, else leaves it to the secret store', () => {
    const kek = Buffer.alloc(32, 7).toString('base64');
    expect(configuredKek(loadConfig({ env: { FSM_KEY_ENCRYPTION_KEY: kek } }))).toBe(kek);
    expect(configuredKek(loadConfig({ env: {} }))).toBeUndefined();
  });
});
