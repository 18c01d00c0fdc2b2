// Per-caller policy: validity cap, key algorithms, key modes and a rate shared by replicas.
import { describe, expect, it } from 'vitest';
import { createCsr, generateKeyPair } from '@fsm-certs/x509';
import { sha256Hex, type TokenGrant } from './auth/tokens.js';
import { GRANTS, harnessPerTest, problemOf, startHarness } from './testing/harness.test-helpers.js';

const ctx = harnessPerTest();

const LIMITED = 'limited-token-0123456789abcdef';
const grant = (policy: TokenGrant['policy']): TokenGrant => ({ name: 'limited', sha256: sha256Hex(LIMITED), scopes: ['issue'], names: ['*.bookstore.cluster.local'], policy });
const V1 = 'bookstore-v1.bookstore.cluster.local';

describe('a token policy', () => {
  it('refuses a validity over its maximum with 403 POLICY_DENIED naming maxValidity, and caps the default validity', async () => {
    await ctx.restart({ options: { tokens: [...GRANTS, grant({ maxValidityMs: 12 * 3600_000 })] } });
    const over = await ctx.h.call('POST', '/v1/certificates', { token: LIMITED, body: { commonName: V1, validity: '48h' } });
    expect(over.status).toBe(403);
    const problem = await problemOf(over);
    expect(problem.code).toBe('POLICY_DENIED');
    expect(problem.detail).toContain('maxValidity');
    expect(ctx.h.issueClient.batches).toEqual([]);

    const defaulted = await ctx.h.call('POST', '/v1/certificates', { token: LIMITED, body: { commonName: V1 } });
    expect(defaulted.status).toBe(201);
    const cert = (await defaulted.json()) as { notBefore: string; notAfter: string };
    expect(Date.parse(cert.notAfter) - Date.parse(cert.notBefore)).toBeLessThanOrEqual(12 * 3600_000 + 120_000);
  });

  it('refuses a key algorithm it does not list, naming keyAlgorithms', async () => {
    await ctx.restart({ options: { tokens: [...GRANTS, grant({ keyAlgorithms: ['ecdsa-p256'] })] } });
    const res = await ctx.h.call('POST', '/v1/certificates', { token: LIMITED, body: { commonName: V1, keyAlgorithm: 'rsa-2048' } });
    expect(res.status).toBe(403);
    expect((await problemOf(res)).detail).toContain('keyAlgorithms');
    expect(ctx.h.issueClient.batches).toEqual([]);
  });

  it('with keyModes [csr] refuses a server-generated key and issues for a CSR', async () => {
    await ctx.restart({ options: { tokens: [...GRANTS, grant({ keyModes: ['csr'] })] } });
    const server = await ctx.h.call('POST', '/v1/certificates', { token: LIMITED, body: { commonName: V1 } });
    expect(server.status).toBe(403);
    expect((await problemOf(server)).detail).toContain('keyModes');
    const csr = createCsr({ commonName: V1, keyPair: generateKeyPair('ecdsa-p256') });
    const ok = await ctx.h.call('POST', '/v1/certificates', { token: LIMITED, body: { commonName: V1, csr } });
    expect(ok.status).toBe(201);
    expect(((await ok.json()) as { privateKey?: string }).privateKey).toBeUndefined();
  });

  it('holds its rate across two gateways on one Redis: two replicas do not allow twice the burst', async () => {
    // 0.05/s: a burst of one request, and the next only 20 s later, so the test cannot refill it.
    const tokens = [...GRANTS, grant({ ratePerSec: 0.05 })];
    const first = await ctx.restart({ options: { tokens }, sharedRateLimit: true });
    const second = await startHarness(ctx.shared, { options: { tokens }, sharedRateLimit: true, prefix: first.prefix });
    try {
      const statuses: number[] = [];
      for (const h of [first, second, first, second]) {
        const res = await h.call('POST', '/v1/certificates', { token: LIMITED, body: { commonName: V1 } });
        statuses.push(res.status);
        if (res.status === 429) {
          expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(1);
          expect((await problemOf(res)).detail).toContain('rate');
        } else await res.body?.cancel();
      }
      expect(statuses).toEqual([201, 429, 429, 429]);
    } finally {
      await second.close();
    }
  });
});
