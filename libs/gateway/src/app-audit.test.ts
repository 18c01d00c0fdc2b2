// The audit trail: every decision recorded once, with who asked and from where, and no secret.
import { describe, expect, it } from 'vitest';
import type { AuditPage, AuditRecord } from '@fsm-certs/api';
import { TOKENS, harnessPerTest, problemOf } from './testing/harness.test-helpers.js';

const ctx = harnessPerTest();

async function audit(query = ''): Promise<AuditRecord[]> {
  const res = await ctx.h.call('GET', `/v1/audit${query}`, { token: TOKENS.admin });
  expect(res.status).toBe(200);
  return ((await res.json()) as AuditPage).items;
}

describe('the audit trail', () => {
  it('records a mixed run of issues, refusals, a rotation and a release exactly once each, with caller, address and request id', async () => {
    const V1 = 'bookstore-v1.bookstore.cluster.local';
    const issued = await ctx.h.call('POST', '/v1/certificates', { token: TOKENS.bookstore, body: { commonName: V1 }, headers: { 'x-request-id': 'req-issue-1' } });
    expect(issued.status).toBe(201);
    expect(issued.headers.get('x-request-id')).toBe('req-issue-1');
    const issuedCert = (await issued.json()) as { serialNumber: string; privateKey: string };
    const refused = await ctx.h.call('POST', '/v1/certificates', { token: TOKENS.bookstore, body: { commonName: 'payments.payments.cluster.local' } });
    expect(refused.status).toBe(403);
    const unknown = await ctx.h.call('POST', '/v1/certificates', { token: 'not-a-known-token-0123456789', body: { commonName: V1 } });
    expect(unknown.status).toBe(401);
    const rotated = await ctx.h.call('POST', `/v1/certificates/${V1}/rotate`, { token: TOKENS.bookstore });
    expect(rotated.status).toBe(200);
    const rotatedCert = (await rotated.json()) as { serialNumber: string };
    expect((await ctx.h.call('DELETE', `/v1/certificates/${V1}`, { token: TOKENS.bookstore })).status).toBe(204);

    const records = await audit();
    expect(records.map((r) => [r.outcome, r.caller, r.code])).toEqual([
      ['issued', 'bookstore', null],
      ['refused', 'bookstore', 'NAME_NOT_ALLOWED'],
      ['refused', null, 'UNAUTHENTICATED'],
      ['rotated', 'bookstore', null],
      ['released', 'bookstore', null],
    ]);
    const [first] = records;
    expect(first).toMatchObject({ requestId: 'req-issue-1', clientAddress: expect.stringMatching(/127\.0\.0\.1/), commonName: V1, serialNumber: issuedCert.serialNumber, keyAlgorithm: 'ecdsa-p256', provider: 'tresor', status: 201 });
    expect(records[1]?.names).toEqual(['payments.payments.cluster.local']);
    expect(records[3]?.serialNumber).toBe(rotatedCert.serialNumber);
    const text = JSON.stringify(records);
    expect(text).not.toContain('PRIVATE KEY');
    expect(text).not.toContain(TOKENS.bookstore);
    expect(text).not.toContain('not-a-known-token');
  });

  it('filters by name, caller, outcome and time, and pages with a cursor', async () => {
    for (const n of ['a', 'b', 'c']) {
      expect((await ctx.h.call('POST', '/v1/certificates', { token: TOKENS.bookstore, body: { commonName: `${n}.bookstore.cluster.local` } })).status).toBe(201);
    }
    await ctx.h.call('POST', '/v1/certificates', { token: TOKENS.anyName, body: { commonName: 'api.example.com' } });
    expect((await audit('?name=B.bookstore.cluster.local')).map((r) => r.commonName)).toEqual(['b.bookstore.cluster.local']);
    expect((await audit('?caller=any')).map((r) => r.commonName)).toEqual(['api.example.com']);
    expect(await audit('?outcome=refused')).toEqual([]);
    const later = new Date(ctx.h.clock.now() + 1000).toISOString();
    expect(await audit(`?since=${later}`)).toEqual([]);
    const first = await ctx.h.call('GET', '/v1/audit?limit=3', { token: TOKENS.admin });
    const page = (await first.json()) as AuditPage;
    expect(page.items).toHaveLength(3);
    expect(page.nextCursor).not.toBeNull();
    const rest = await audit(`?limit=3&cursor=${page.nextCursor ?? ''}`);
    expect(rest.map((r) => r.commonName)).toEqual(['api.example.com']);
  });

  it('is for admins only', async () => {
    const res = await ctx.h.call('GET', '/v1/audit', { token: TOKENS.reader });
    expect(res.status).toBe(403);
    expect((await problemOf(res)).code).toBe('FORBIDDEN');
  });
});
