import { describe, expect, it } from 'vitest';
import { backoffDelayMs, DEFAULT_RETRY_POLICY } from './backoff.js';
import type { VaultLogger } from './logger.js';
import type { TokenSource } from './token-source.js';
import { VaultNetworkError } from './transport.js';
import type { VaultTransport, VaultTransportRequest, VaultTransportResponse } from './transport.js';
import { VaultClient } from './vault-client.js';
import { providerFailure } from '../provider-error.test-helpers.js';

type Step = VaultTransportResponse | VaultNetworkError;

function scriptedTransport(steps: Step[]): VaultTransport & { seen: VaultTransportRequest[] } {
  const seen: VaultTransportRequest[] = [];
  return {
    address: 'http://vault.test:8200',
    seen,
    send(request) {
      seen.push(request);
      const step = steps.shift();
      if (step === undefined) throw new Error('transport script exhausted');
      if (step instanceof VaultNetworkError) return Promise.reject(step);
      return Promise.resolve(step);
    },
  };
}

function recordingLogger(): VaultLogger & { lines: string[] } {
  const lines: string[] = [];
  const push = (obj: Record<string, unknown>, msg: string): void => {
    lines.push(`${msg} ${JSON.stringify(obj)}`);
  };
  return { lines, info: push, warn: push, error: push };
}

const fixedToken = (token: string): TokenSource => ({ description: 'test', rereadable: false, read: () => Promise.resolve(token) });
const refused = (): VaultNetworkError => new VaultNetworkError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:8200');
const issued = { ok: true as const, body: { data: { certificate: 'C', issuing_ca: 'I', serial_number: '01:02', expiration: 1 }, warnings: null } };
const params = { commonName: 'a.example', altNames: [], uriSans: [], ipSans: [], ttlSeconds: 5400 };

function client(steps: Step[], options: { tokenSource?: TokenSource; maxAttempts?: number } = {}) {
  const transport = scriptedTransport(steps);
  const sleeps: number[] = [];
  const logger = recordingLogger();
  const c = new VaultClient({
    transport,
    tokenSource: options.tokenSource ?? fixedToken('s.secret-token'),
    logger,
    retry: { maxAttempts: options.maxAttempts ?? 4, baseDelayMs: 100, maxDelayMs: 300 },
    random: () => 0.5,
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
  });
  return { c, transport, sleeps, logger };
}

describe('backoff', () => {
  it.each([
    { attempt: 1, random: 0, want: 100 },
    { attempt: 1, random: 1, want: 200 },
    { attempt: 3, random: 0.5, want: 600 },
    { attempt: 20, random: 0, want: 1000 },
    { attempt: 20, random: 1, want: 2000 },
  ])('waits $want ms after attempt $attempt when jitter draws $random (base 200 ms, cap 2 s)', ({ attempt, random, want }) => {
    expect(backoffDelayMs(attempt, DEFAULT_RETRY_POLICY, () => random)).toBe(want);
  });
});

describe('VaultClient', () => {
  it('retries network errors with capped, growing delays and then succeeds', async () => {
    const { c, sleeps } = client([refused(), refused(), { ok: false, status: 503, body: { errors: ['Vault is sealed'] } }, issued]);
    await expect(c.issue('pki', 'fsm', params)).resolves.toMatchObject({ data: { serial_number: '01:02' } });
    expect(sleeps).toEqual([75, 150, 225]);
  });

  it('gives up after the bounded number of attempts with a retryable BACKEND_UNAVAILABLE naming the path', async () => {
    const { c, transport } = client([refused(), refused(), refused(), refused()]);
    const error = await providerFailure(c.issue('pki', 'fsm', params));
    expect(error).toMatchObject({ code: 'BACKEND_UNAVAILABLE', httpStatus: 503, retryable: true });
    expect(error.message).toContain('/v1/pki/issue/fsm');
    expect(transport.seen).toHaveLength(4);
  });

  it('turns a cancel during the backoff into a retryable ISSUANCE_TIMEOUT and sends nothing more', async () => {
    const transport = scriptedTransport([refused(), issued]);
    const controller = new AbortController();
    const c = new VaultClient({
      transport,
      tokenSource: fixedToken('s.secret-token'),
      logger: recordingLogger(),
      retry: { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 300 },
      random: () => 0.5,
      // The cancel arrives while the client waits to retry (a ca-service shutting down).
      sleep: (_ms, signal) => {
        controller.abort('shutting down');
        return Promise.reject(signal?.reason);
      },
    });
    const error = await providerFailure(c.issue('pki', 'fsm', params, controller.signal));
    expect(error).toMatchObject({ code: 'ISSUANCE_TIMEOUT', retryable: true });
    expect(error.message).toContain('/v1/pki/issue/fsm was cancelled');
    expect(transport.seen).toHaveLength(1);
  });

  it.each([
    { status: 400, errors: ['common name evil.example not allowed by this role'], code: 'NAME_NOT_ALLOWED', httpStatus: 403 },
    { status: 403, errors: ['permission denied'], code: 'BACKEND_AUTH_FAILED', httpStatus: 502 },
    { status: 400, errors: ['unknown role: fsm'], code: 'CONFIGURATION_INVALID', httpStatus: 502 },
    { status: 400, errors: ['error converting input'], code: 'INVALID_REQUEST', httpStatus: 400 },
  ])('does not retry a $status "$errors.0" and maps it to $code', async ({ status, errors, code, httpStatus }) => {
    const { c, transport, sleeps } = client([{ ok: false, status, body: { errors } }]);
    const error = await providerFailure(c.issue('pki', 'fsm', params));
    expect(error).toMatchObject({ code, httpStatus, retryable: false });
    expect(error.message).toContain(errors[0]);
    expect(transport.seen).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('re-reads a re-readable token source once after a 403 and retries with the new token', async () => {
    const tokens = ['old-token', 'new-token'];
    const source: TokenSource = { description: 'secret', rereadable: true, read: () => Promise.resolve(tokens.shift() ?? 'new-token') };
    const { c, transport } = client([{ ok: false, status: 403, body: { errors: ['permission denied'] } }, issued], { tokenSource: source });
    await c.issue('pki', 'fsm', params);
    expect(transport.seen.map((r) => r.token)).toEqual(['old-token', 'new-token']);
  });

  it('stops after one re-read when the token did not change', async () => {
    const source: TokenSource = { description: 'secret', rereadable: true, read: () => Promise.resolve('same') };
    const { c, transport } = client([{ ok: false, status: 403, body: { errors: ['permission denied'] } }], { tokenSource: source });
    expect(await providerFailure(c.issue('pki', 'fsm', params))).toMatchObject({ code: 'BACKEND_AUTH_FAILED' });
    expect(transport.seen).toHaveLength(1);
  });

  it('sends the validity as exact seconds and the SANs comma-separated, without the CN twice', async () => {
    const { c, transport } = client([issued]);
    await c.issue('pki', 'fsm', { ...params, altNames: ['a.example', 'b.example'], uriSans: ['spiffe://cluster.local/ns/a/sa/b'] });
    expect(transport.seen[0]?.body).toMatchObject({ common_name: 'a.example', alt_names: 'b.example', uri_sans: 'spiffe://cluster.local/ns/a/sa/b', ttl: '5400s' });
  });

  it('logs method, path, status and duration of every attempt and never the token', async () => {
    const { c, logger } = client([refused(), issued]);
    await c.issue('pki', 'fsm', params);
    expect(logger.lines.some((l) => l.startsWith('vault request failed') && l.includes('"path":"pki/issue/fsm"') && l.includes('"status":0'))).toBe(true);
    expect(logger.lines.some((l) => l.startsWith('vault request {') && l.includes('"status":200') && l.includes('"durationMs"'))).toBe(true);
    expect(logger.lines.join('\n')).not.toContain('s.secret-token');
  });

  it('accepts 204 and 200 answers to writes alike', async () => {
    const { c } = client([{ ok: true, body: '' }, { ok: true, body: { data: { allow_any_name: true }, warnings: null } }]);
    await expect(c.enableMount('pki', 'pki')).resolves.toBeUndefined();
    await expect(c.writeRole('pki', 'fsm', { allow_any_name: true, allow_subdomains: true, allow_bare_domains: true, allow_localhost: true, allowed_domains: [], allowed_uri_sans: [], enforce_hostnames: true, max_ttl: '24h', key_type: 'ec', key_bits: 256, key_usage: ['DigitalSignature'], use_csr_common_name: false, use_csr_sans: false })).resolves.toBeUndefined();
  });

  it('refuses an answer of the wrong shape with ISSUANCE_FAILED instead of passing it on', async () => {
    const { c } = client([{ ok: true, body: { data: { certificate: 42 } } }]);
    expect(await providerFailure(c.issue('pki', 'fsm', params))).toMatchObject({ code: 'ISSUANCE_FAILED' });
  });
});
