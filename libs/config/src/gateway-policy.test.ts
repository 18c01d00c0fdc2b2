// gateway.tokens[].policy, ServiceAccount authentication, event-stream caps, failed-auth limits
// and audit retention: read from file and environment, refused on one line when wrong.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './index.js';

function yamlFile(content: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'fsm-policy-')), 'config.yaml');
  writeFileSync(file, content);
  return file;
}

/** The one-line message loadConfig refuses `options` with (fails the test when it accepts them). */
function refusal(options: Parameters<typeof loadConfig>[0]): string {
  let error: unknown;
  try {
    loadConfig(options);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ConfigError);
  const message = (error as ConfigError).message;
  expect(message.split('\n')).toHaveLength(1);
  return message;
}

describe('gateway caller policy', () => {
  it('reads a token policy into milliseconds and lists, keeping unset rules unset', () => {
    const file = yamlFile(`gateway:
  tokens:
    - name: bookstore
      token: bookstore-token-0123456789
      scopes: [issue]
      names: ["*.bookstore.cluster.local"]
      policy: { maxValidity: 12h, keyAlgorithms: [ecdsa-p256], keyModes: [csr], rateLimitPerSec: 2.5 }
`);
    const [token] = loadConfig({ env: {}, file }).gateway.tokens;
    expect(token?.policy).toEqual({ maxValidityMs: 12 * 3600_000, keyAlgorithms: ['ecdsa-p256'], keyModes: ['csr'], ratePerSec: 2.5 });
  });

  it('has safe defaults: ServiceAccount auth off with audience fsm-certs, 20 streams per caller, 1000 per gateway, 30 days of audit', () => {
    const gateway = loadConfig({ env: {} }).gateway;
    expect(gateway.serviceAccountAuth).toMatchObject({ enabled: false, audience: 'fsm-certs', cacheTtlMs: 30_000, names: [] });
    expect(gateway.sse).toEqual({ maxStreamsPerCaller: 20, maxStreams: 1000 });
    expect(gateway.authFailures).toEqual({ ratePerSec: 1, burst: 10 });
    expect(gateway.auditRetentionMs).toBe(30 * 24 * 3600_000);
  });

  it('reads the environment variables', () => {
    const gateway = loadConfig({
      env: {
        GATEWAY_SA_AUTH_ENABLED: 'true',
        GATEWAY_SA_AUTH_AUDIENCE: 'mesh-ca',
        GATEWAY_SA_AUTH_CACHE_TTL: '5s',
        GATEWAY_SSE_MAX_STREAMS: '50',
        GATEWAY_SSE_MAX_STREAMS_PER_CALLER: '5',
        GATEWAY_AUTH_FAILURES_PER_SEC: '0.5',
        GATEWAY_AUTH_FAILURES_BURST: '3',
        GATEWAY_AUDIT_RETENTION: '168h',
        GATEWAY_SA_AUTH_NAMES: '["**.shared.cluster.local"]',
        GATEWAY_SA_AUTH_POLICY: '{"maxValidity":"12h","keyModes":["csr"]}',
      },
    }).gateway;
    expect(gateway.serviceAccountAuth).toMatchObject({ enabled: true, audience: 'mesh-ca', cacheTtlMs: 5000, names: ['**.shared.cluster.local'] });
    expect(gateway.serviceAccountAuth.policy).toEqual({ maxValidityMs: 12 * 3600_000, keyModes: ['csr'] });
    expect(gateway.sse).toEqual({ maxStreamsPerCaller: 5, maxStreams: 50 });
    expect(gateway.authFailures).toEqual({ ratePerSec: 0.5, burst: 3 });
    expect(gateway.auditRetentionMs).toBe(168 * 3600_000);
  });

  it.each([
    ['an unknown key algorithm', '{ keyAlgorithms: [dsa] }', 'gateway.tokens.0.policy.keyAlgorithms.0'],
    ['an unknown key mode', '{ keyModes: [pkcs12] }', 'gateway.tokens.0.policy.keyModes.0'],
    ['a validity cap under 10m', '{ maxValidity: 1m }', 'gateway.tokens.0.policy.maxValidity'],
    ['an unknown rule', '{ maxTTL: 1h }', 'gateway.tokens.0.policy.maxTTL'],
  ])('refuses %s on one line naming the key', (_what, policy, key) => {
    const file = yamlFile(`gateway:\n  tokens:\n    - { name: x, token: x-token-0123456789abcdef, scopes: [issue], policy: ${policy} }\n`);
    expect(refusal({ env: {}, file })).toContain(key);
  });
});

describe('ServiceAccount names and policy from the environment', () => {
  // A key inside the JSON is named by its path (as for GATEWAY_TOKENS); the value itself by its variable.
  it.each([
    ['GATEWAY_SA_AUTH_NAMES', 'a list that is not JSON', '*.a.cluster.local', 'gateway.serviceAccountAuth.names', 'GATEWAY_SA_AUTH_NAMES'],
    ['GATEWAY_SA_AUTH_POLICY', 'an unknown rule', '{"maxTTL":"1h"}', 'gateway.serviceAccountAuth.policy.maxTTL', 'maxTTL'],
  ])('refuses %s with %s on one line naming it', (name, _what, value, key, named) => {
    const message = refusal({ env: { [name]: value } });
    expect(message).toContain(named);
    expect(message).toContain(key);
  });
});

describe('gateway token names', () => {
  it('gives a read-only token without names every name (a monitoring token reads all) and any other token none', () => {
    const file = yamlFile(`gateway:
  tokens:
    - { name: monitoring, token: monitoring-token-0123456789, scopes: [read] }
    - { name: workload, token: workload-token-0123456789ab, scopes: [issue, read] }
    - { name: blind, token: blind-reader-token-0123456789, scopes: [read], names: [] }
`);
    const tokens = loadConfig({ env: {}, file }).gateway.tokens;
    expect(tokens.map((t) => [t.name, t.names])).toEqual([
      ['monitoring', ['*']],
      ['workload', []],
      ['blind', []],
    ]);
  });
});
