import { describe, expect, it } from 'vitest';
import { AgentError } from './errors.js';
import { resolveOptions, type AgentOptions } from './options.js';

const base: AgentOptions = { gatewayUrl: 'http://127.0.0.1:8080/', token: 'a-token', dir: '/tmp/x', commonName: 'Bookstore.bookstore.cluster.local' };

describe('resolveOptions', () => {
  it('fills the documented defaults', () => {
    const o = resolveOptions(base);
    expect(o).toMatchObject({
      gatewayUrl: 'http://127.0.0.1:8080',
      commonName: 'bookstore.bookstore.cluster.local',
      keyMode: 'csr',
      keyAlgorithm: 'ecdsa-p256',
      sans: [],
      spiffe: false,
      backoff: { initialMs: 1_000, maxMs: 60_000 },
      requestTimeoutMs: 30_000,
      minRenewIntervalMs: 30_000,
      issuerChangeGraceMs: 3_600_000,
    });
    expect(o.token).toEqual({ token: 'a-token' });
    expect(o.health).toBeUndefined();
  });

  const refused: Array<{ why: string; options: AgentOptions; message: RegExp }> = [
    { why: 'no token at all', options: { ...base, token: undefined }, message: /exactly one of token and tokenFile/ },
    { why: 'both a token and a token file', options: { ...base, tokenFile: '/var/run/secrets/token' }, message: /exactly one/ },
    { why: 'a gateway URL that is not http(s)', options: { ...base, gatewayUrl: 'ftp://gw' }, message: /gatewayUrl/ },
    { why: 'an unknown key mode', options: { ...base, keyMode: 'tpm' as never }, message: /keyMode/ },
    { why: 'an unknown key algorithm', options: { ...base, keyAlgorithm: 'ed25519' as never }, message: /keyAlgorithm/ },
    { why: 'a validity that is not a Go duration', options: { ...base, validity: '1 day' }, message: /validity: must be a Go duration/ },
    { why: 'an unknown signal', options: { ...base, reload: { signal: 'SIGFOO' as NodeJS.Signals, pid: 42 } }, message: /reload/ },
    { why: 'a backoff cap below its start', options: { ...base, backoff: { initialMs: 5_000, maxMs: 1_000 } }, message: /backoff.maxMs/ },
    { why: 'a health port out of range', options: { ...base, health: { host: '127.0.0.1', port: 70_000 } }, message: /health.port/ },
  ];
  it.each(refused)('refuses $why with AGENT_INVALID_OPTIONS', ({ options, message }) => {
    let error: unknown;
    try {
      resolveOptions(options);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AgentError);
    expect((error as AgentError).code).toBe('AGENT_INVALID_OPTIONS');
    expect((error as AgentError).message).toMatch(message);
  });
});
