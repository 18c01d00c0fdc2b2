// The gateway's authentication, event-stream, audit and ServiceAccount options as chart values:
// each value reaches the apps under the config lib's own environment names (checked by loading the
// rendered environment with the apps' loadConfig), the defaults are the apps' own safe defaults,
// and values.schema.json refuses a wrong one at install time.
import { loadConfig, type FsmConfig } from '@fsm-certs/config';
import { describe, expect, it } from 'vitest';
import { render, renderError, type SetValues } from './helm.js';
import { grantedTo, mainContainer, resolvedEnv, workload } from './manifests.js';

const NAMESPACE = 'fsm-system';

function configOf(set: SetValues, app: 'issuer-gateway' | 'ca-service'): FsmConfig {
  const objects = render({ set });
  return loadConfig({ env: resolvedEnv(objects, mainContainer(workload(objects, 'Deployment', `fsm-certs-${app}`)), NAMESPACE) });
}

describe('gateway options in the chart', () => {
  it("defaults to the apps' own defaults: 20 streams per caller, 1000 per replica, 1 failed authentication/s with a burst of 10, 30 days of audit, ServiceAccount tokens off", () => {
    const appDefaults = loadConfig({ env: {} }).gateway;
    const gateway = configOf({}, 'issuer-gateway').gateway;
    expect(gateway.sse).toEqual(appDefaults.sse);
    expect(gateway.sse).toEqual({ maxStreamsPerCaller: 20, maxStreams: 1000 });
    expect(gateway.authFailures).toEqual({ ratePerSec: 1, burst: 10 });
    expect(gateway.auditRetentionMs).toBe(30 * 24 * 3600_000);
    expect(configOf({}, 'ca-service').gateway.auditRetentionMs).toBe(30 * 24 * 3600_000);
    expect(gateway.serviceAccountAuth).toEqual(appDefaults.serviceAccountAuth);
    expect(gateway.serviceAccountAuth).toMatchObject({ enabled: false, audience: 'fsm-certs', cacheTtlMs: 30_000, names: [] });
  });

  it('passes the event-stream caps, the failed-authentication limits and the audit retention (to the gateway and the ca-service)', () => {
    const set = {
      'issuerGateway.sse.maxStreamsPerCaller': '5',
      'issuerGateway.sse.maxStreams': '200000',
      'issuerGateway.authFailures.ratePerSec': '0.5',
      'issuerGateway.authFailures.burst': '3',
      'audit.retention': '168h',
    };
    const gateway = configOf(set, 'issuer-gateway').gateway;
    expect(gateway.sse).toEqual({ maxStreamsPerCaller: 5, maxStreams: 200_000 });
    expect(gateway.authFailures).toEqual({ ratePerSec: 0.5, burst: 3 });
    expect(gateway.auditRetentionMs).toBe(168 * 3600_000);
    expect(configOf(set, 'ca-service').gateway.auditRetentionMs).toBe(168 * 3600_000);
  });

  it('passes ServiceAccount authentication with its audience, cache, extra names and group policy', () => {
    const gateway = configOf(
      {
        'auth.serviceAccountTokens.enabled': 'true',
        'auth.serviceAccountTokens.audience': 'mesh-ca',
        'auth.serviceAccountTokens.cacheTtl': '5s',
        'auth.serviceAccountTokens.names': '{**.shared.cluster.local}',
        'auth.serviceAccountTokens.policy.maxValidity': '12h',
        'auth.serviceAccountTokens.policy.keyModes': '{csr}',
      },
      'issuer-gateway',
    ).gateway;
    expect(gateway.serviceAccountAuth).toMatchObject({ enabled: true, audience: 'mesh-ca', cacheTtlMs: 5000, names: ['**.shared.cluster.local'] });
    expect(gateway.serviceAccountAuth.policy).toEqual({ maxValidityMs: 12 * 3600_000, keyModes: ['csr'] });
  });

  it('passes a per-token policy inside GATEWAY_TOKENS, and a read-only token without names reads every name', () => {
    const gateway = configOf(
      {
        'auth.tokens[0].name': 'bookstore',
        'auth.tokens[0].token': 'a-bookstore-token-of-some-length',
        'auth.tokens[0].scopes': '{issue,read}',
        'auth.tokens[0].names': '{*.bookstore.cluster.local}',
        'auth.tokens[0].policy.maxValidity': '24h',
        'auth.tokens[0].policy.keyAlgorithms': '{ecdsa-p256}',
        'auth.tokens[0].policy.rateLimitPerSec': '5',
        'auth.tokens[1].name': 'monitoring',
        'auth.tokens[1].token': 'a-monitoring-token-of-some-length',
        'auth.tokens[1].scopes': '{read}',
      },
      'issuer-gateway',
    ).gateway;
    const [bookstore, monitoring] = gateway.tokens;
    expect(bookstore?.policy).toEqual({ maxValidityMs: 24 * 3600_000, keyAlgorithms: ['ecdsa-p256'], ratePerSec: 5 });
    expect(monitoring?.names).toEqual(['*']);
  });

  it('grants TokenReview creation (and nothing cluster-wide) only with ServiceAccount tokens enabled', () => {
    const granted = (set: SetValues): string[] =>
      grantedTo(render({ set }), 'fsm-certs-issuer-gateway', NAMESPACE)
        .filter((p) => p.clusterScoped)
        .map((p) => `${p.apiGroup} ${p.resource} ${p.verb} ${p.resourceName ?? '*'}`);
    expect(granted({})).toEqual([]);
    expect(granted({ 'auth.serviceAccountTokens.enabled': 'true' })).toEqual(['authentication.k8s.io tokenreviews create *']);
  });

  it.each([
    ['an event-stream cap of 0', { 'issuerGateway.sse.maxStreams': '0' }, "at '/issuerGateway/sse/maxStreams'"],
    ['a negative failure rate', { 'issuerGateway.authFailures.ratePerSec': '-1' }, "at '/issuerGateway/authFailures/ratePerSec'"],
    ['an audit retention in days', { 'audit.retention': '30d' }, "at '/audit/retention'"],
    ['a cache TTL that is not a duration', { 'auth.serviceAccountTokens.cacheTtl': 'soon' }, "at '/auth/serviceAccountTokens/cacheTtl'"],
    ['an unknown ServiceAccount policy rule', { 'auth.serviceAccountTokens.policy.maxTTL': '1h' }, "additional properties 'maxTTL' not allowed"],
    ['a key algorithm the CA does not have', { 'auth.serviceAccountTokens.policy.keyAlgorithms': '{ecdsa-p384}' }, "at '/auth/serviceAccountTokens/policy/keyAlgorithms/0'"],
    ['a name that is not a pattern', { 'auth.serviceAccountTokens.names': '{a..b}' }, "at '/auth/serviceAccountTokens/names/0'"],
  ])('refuses %s at install time, naming the value', (_what, set, message) => {
    expect(renderError({ set })).toContain(message);
  });

  it('accepts in the schema exactly the key algorithms and key modes the apps accept', () => {
    for (const [rule, values] of [
      ['keyAlgorithms', ['ecdsa-p256', 'rsa-2048', 'rsa-3072', 'rsa-4096']],
      ['keyModes', ['csr', 'server']],
    ] as const) {
      for (const value of values) {
        const policy = configOf({ [`auth.serviceAccountTokens.policy.${rule}`]: `{${value}}` }, 'issuer-gateway').gateway.serviceAccountAuth.policy;
        expect(policy?.[rule]).toEqual([value]);
      }
    }
  });
});
