// The authorization holes an attacker with a name-restricted token (`*.bookstore.cluster.local`)
// found: each answers 4xx now, and nothing is issued or stored.
import { describe, expect, it } from 'vitest';
import { sha256Hex } from './auth/tokens.js';
import { GRANTS, TOKENS, harnessPerTest, problemOf, type Harness } from './testing/harness.test-helpers.js';

const ctx = harnessPerTest();

interface CertJson {
  commonName: string;
  serialNumber: string;
  uris: string[];
  privateKey?: string;
}

const V1 = 'bookstore-v1.bookstore.cluster.local';

/** What the attacker must not change: the batches sent and the stored serial of `name`. */
async function snapshot(h: Harness, name: string): Promise<{ batches: number; serial: string | undefined }> {
  return { batches: h.issueClient.batches.length, serial: (await h.inventory.get(name))?.serialNumber };
}

async function adminIssue(body: object): Promise<CertJson> {
  const res = await ctx.h.call('POST', '/v1/certificates', { token: TOKENS.admin, body });
  expect(res.status).toBe(201);
  return (await res.json()) as CertJson;
}

/** Stores a certificate as the ca-service would, bypassing the gateway's request checks. */
async function storeDirectly(commonName: string, extra: { dnsNames?: string[] } = {}): Promise<string> {
  const record = await ctx.h.issueClient.issue({
    requestId: `direct-${commonName}`,
    commonName,
    dnsNames: extra.dnsNames ?? [],
    uris: [],
    ipAddresses: [],
    validityMs: 3600_000,
    keyAlgorithm: 'ecdsa-p256',
    reason: 'request',
  });
  return record.serialNumber;
}

describe('a SPIFFE id is only derived from a name the caller may have', () => {
  it('refuses the bookstore token a certificate carrying the payments namespace SPIFFE id, issuing nothing', async () => {
    const before = await snapshot(ctx.h, V1);
    const res = await ctx.h.call('POST', '/v1/certificates', {
      token: TOKENS.bookstore,
      body: { commonName: V1, spiffe: { namespace: 'payments', serviceAccount: 'payments' } },
    });
    expect(res.status).toBe(403);
    const problem = await problemOf(res);
    expect(problem.code).toBe('NAME_NOT_ALLOWED');
    expect(problem.detail).toContain('spiffe://cluster.local/ns/payments/sa/payments');
    expect(await snapshot(ctx.h, V1)).toEqual(before);
  });

  it.each([
    ['an upper-case namespace that would alias bookstore', { namespace: 'Bookstore', serviceAccount: 'bookstore-v1' }],
    ['a dotted service account that would make a longer name', { namespace: 'bookstore', serviceAccount: 'x.y' }],
  ])('refuses %s', async (_what, spiffe) => {
    const res = await ctx.h.call('POST', '/v1/certificates', { token: TOKENS.bookstore, body: { commonName: V1, spiffe } });
    expect(res.status).toBe(403);
    expect(ctx.h.issueClient.batches).toEqual([]);
  });

  it('grants the SPIFFE id of a name the token covers', async () => {
    const res = await ctx.h.call('POST', '/v1/certificates', {
      token: TOKENS.bookstore,
      body: { commonName: V1, spiffe: { namespace: 'bookstore', serviceAccount: 'bookstore-v2' } },
    });
    expect(res.status).toBe(201);
    expect(((await res.json()) as CertJson).uris).toEqual(['spiffe://cluster.local/ns/bookstore/sa/bookstore-v2']);
  });
});

describe('operations on a stored certificate need every one of its names', () => {
  it.each([
    ['a DNS name of another namespace', { sans: ['payments.payments.cluster.local'] }],
    ['an IP address', { sans: ['10.0.0.7'] }],
    ['a URI', { sans: ['https://payments.example/id'] }],
    ['a SPIFFE id of another namespace', { spiffe: { namespace: 'payments', serviceAccount: 'payments' } }],
  ])('refuses the bookstore token to rotate or release a certificate whose CN it covers but which carries %s', async (_what, extra) => {
    const issued = await adminIssue({ commonName: V1, ...extra });
    const before = await snapshot(ctx.h, V1);
    expect(before.serial).toBe(issued.serialNumber);

    const rotate = await ctx.h.call('POST', `/v1/certificates/${V1}/rotate`, { token: TOKENS.bookstore });
    expect(rotate.status).toBe(403);
    const problem = await problemOf(rotate);
    expect(problem.code).toBe('NAME_NOT_ALLOWED');
    expect(JSON.stringify(problem)).not.toContain('PRIVATE KEY');

    const release = await ctx.h.call('DELETE', `/v1/certificates/${V1}`, { token: TOKENS.bookstore });
    expect(release.status).toBe(403);
    expect((await problemOf(release)).code).toBe('NAME_NOT_ALLOWED');
    expect(await snapshot(ctx.h, V1)).toEqual(before);
  });

  it('still lets the bookstore token rotate and release a certificate all of whose names it covers', async () => {
    await adminIssue({ commonName: V1, sans: ['bookstore-v2.bookstore.cluster.local'], spiffe: true });
    expect((await ctx.h.call('POST', `/v1/certificates/${V1}/rotate`, { token: TOKENS.bookstore })).status).toBe(200);
    expect((await ctx.h.call('DELETE', `/v1/certificates/${V1}`, { token: TOKENS.bookstore })).status).toBe(204);
  });

  it('refuses includeKey of a stored wildcard certificate to an admin whose policy does not allow wildcards', async () => {
    await storeDirectly('*.bookstore.cluster.local');
    const res = await ctx.h.call('GET', '/v1/certificates/*.bookstore.cluster.local?includeKey=true', { token: TOKENS.admin });
    expect(res.status).toBe(403);
    expect(JSON.stringify(await problemOf(res))).not.toContain('PRIVATE KEY');
  });
});

describe('wildcard names', () => {
  it.each([
    ['the bookstore token, as a common name', TOKENS.bookstore, { commonName: '*.bookstore.cluster.local' }],
    ['the bookstore token, as a SAN', TOKENS.bookstore, { commonName: V1, sans: ['*.bookstore.cluster.local'] }],
    ['the admin token, as *.com', TOKENS.admin, { commonName: '*.com' }],
  ])('are refused with 400 INVALID_NAME for %s, issuing nothing', async (_who, token, body) => {
    const res = await ctx.h.call('POST', '/v1/certificates', { token, body });
    expect(res.status).toBe(400);
    expect((await problemOf(res)).code).toBe('INVALID_NAME');
    expect(ctx.h.issueClient.batches).toEqual([]);
  });

  it('are not handed out through reuse of a wildcard certificate an admin had stored', async () => {
    const serial = await storeDirectly('*.bookstore.cluster.local');
    const res = await ctx.h.call('POST', '/v1/certificates', { token: TOKENS.bookstore, body: { commonName: '*.bookstore.cluster.local' } });
    expect(res.status).toBe(400);
    expect(await res.text()).not.toContain('PRIVATE KEY');
    expect((await ctx.h.inventory.get('*.bookstore.cluster.local'))?.serialNumber).toBe(serial);
  });

  it('are issued to a token whose policy allows wildcards, within its patterns', async () => {
    const wild = 'wildcard-token-0123456789abcd';
    await ctx.restart({
      options: { tokens: [...GRANTS, { name: 'wild', sha256: sha256Hex(wild), scopes: ['issue'], names: ['*.bookstore.cluster.local'], policy: { allowWildcards: true } }] },
    });
    const ok = await ctx.h.call('POST', '/v1/certificates', { token: wild, body: { commonName: '*.bookstore.cluster.local' } });
    expect(ok.status).toBe(201);
    const outside = await ctx.h.call('POST', '/v1/certificates', { token: wild, body: { commonName: '*.payments.cluster.local' } });
    expect(outside.status).toBe(403);
  });
});

describe('failed authentications', () => {
  it('are limited per client address: past the burst, 429 with Retry-After, even for a valid token, until the budget refills', async () => {
    await ctx.restart({ options: { failedAuth: { ratePerSec: 1, burst: 5 } } });
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await ctx.h.call('POST', '/v1/certificates', { token: `guess-${i}-0123456789abcdef`, body: { commonName: V1 } })).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
    const limited = await ctx.h.call('POST', '/v1/certificates', { token: TOKENS.bookstore, body: { commonName: V1 } });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await problemOf(limited)).code).toBe('RATE_LIMITED');
    expect(ctx.h.issueClient.batches).toEqual([]);
    ctx.h.clock.advance(2_000);
    expect((await ctx.h.call('POST', '/v1/certificates', { token: TOKENS.bookstore, body: { commonName: V1 } })).status).toBe(201);
  });
});
