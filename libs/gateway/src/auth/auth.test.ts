import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors.js';
import { nameMatcher } from './name-patterns.js';
import { TokenBucketLimiter } from './rate-limit.js';
import { Authenticator, sha256Hex } from './tokens.js';

describe('name patterns', () => {
  const cases: Array<[string, string[], string, boolean]> = [
    ['* allows any name', ['*'], 'anything.example.com', true],
    ['*.suffix allows one label in front', ['*.bookstore.cluster.local'], 'bookstore-v1.bookstore.cluster.local', true],
    ['*.suffix refuses two labels in front', ['*.bookstore.cluster.local'], 'a.b.bookstore.cluster.local', false],
    ['*.suffix refuses the bare suffix', ['*.bookstore.cluster.local'], 'bookstore.cluster.local', false],
    ['*.suffix refuses a look-alike suffix', ['*.bookstore.cluster.local'], 'x.evilbookstore.cluster.local', false],
    ['**.suffix allows a subtree', ['**.bookstore.cluster.local'], 'a.b.bookstore.cluster.local', true],
    ['**.suffix refuses the bare suffix', ['**.bookstore.cluster.local'], 'bookstore.cluster.local', false],
    ['an exact name allows only itself', ['api.example.com'], 'api.example.com', true],
    ['an exact name refuses a subdomain', ['api.example.com'], 'x.api.example.com', false],
    ['matching ignores case', ['*.Bookstore.Cluster.Local'], 'V1.BOOKSTORE.cluster.local', true],
    ['no patterns allow nothing', [], 'a.example.com', false],
  ];
  it.each(cases)('%s', (_name, patterns, name, allowed) => {
    expect(nameMatcher(patterns).allows(name)).toBe(allowed);
  });

  it('reports unrestricted only for the * pattern', () => {
    expect(nameMatcher(['*']).unrestricted).toBe(true);
    expect(nameMatcher(['**.example.com']).unrestricted).toBe(false);
  });
});

describe('Authenticator', () => {
  const auth = new Authenticator([
    { name: 'ops', sha256: sha256Hex('ops-token-aaaaaaaaaaaa'), scopes: ['admin'], names: [] },
    { name: 'app', sha256: sha256Hex('app-token-bbbbbbbbbbbb'), scopes: ['issue'], names: ['*.ns.cluster.local'] },
  ]);

  it('finds the principal of a known token; admin has every scope and name', () => {
    const ops = auth.authenticate('Bearer ops-token-aaaaaaaaaaaa');
    expect(ops).toMatchObject({ name: 'ops', isAdmin: true });
    expect(ops.has('read') && ops.has('issue')).toBe(true);
    expect(ops.names.allows('anything.at.all')).toBe(true);
    const app = auth.authenticate('bearer app-token-bbbbbbbbbbbb');
    expect(app.has('issue')).toBe(true);
    expect(app.has('read')).toBe(false);
  });

  it.each([undefined, '', 'Basic abc', 'Bearer ', 'Bearer wrong-token', 'Bearer ops-token-aaaaaaaaaaab'])('refuses %j with UNAUTHENTICATED', (header) => {
    expect(() => auth.authenticate(header)).toThrow(expect.objectContaining({ code: 'UNAUTHENTICATED', httpStatus: 401 }) as GatewayError);
  });

  it('never puts the presented token into the error message', () => {
    try {
      auth.authenticate('Bearer super-secret-value-123');
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain('super-secret-value-123');
    }
  });

  it('refuses a malformed configured hash at construction', () => {
    expect(() => new Authenticator([{ name: 'x', sha256: 'abc', scopes: ['read'], names: [] }])).toThrow(/64 lowercase hex/);
  });
});

describe('TokenBucketLimiter', () => {
  it('allows a burst of twice the rate, then refills at the rate', () => {
    let now = 0;
    const limiter = new TokenBucketLimiter(5, { now: () => now });
    const first = Array.from({ length: 11 }, () => limiter.take('t').allowed);
    expect(first.filter(Boolean)).toHaveLength(10);
    expect(limiter.take('t')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    now += 200; // one token at 5/s
    expect(limiter.take('t').allowed).toBe(true);
    expect(limiter.take('t').allowed).toBe(false);
  });

  it('keeps one bucket per token', () => {
    const limiter = new TokenBucketLimiter(1, { now: () => 0 });
    limiter.take('a');
    limiter.take('a');
    expect(limiter.take('a').allowed).toBe(false);
    expect(limiter.take('b').allowed).toBe(true);
  });

  it('says how long to wait when the rate is below one per second', () => {
    const limiter = new TokenBucketLimiter(0.25, { now: () => 0 }, 1);
    expect(limiter.take('slow').allowed).toBe(true);
    expect(limiter.take('slow')).toEqual({ allowed: false, retryAfterSeconds: 4 });
  });
});
