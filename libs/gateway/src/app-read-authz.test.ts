// Reading is an operation on a stored certificate too: a name-restricted token sees (GET, list,
// events) only certificates all of whose names it covers, and cannot tell whether a certificate
// outside its patterns exists. An operator token with the `*` pattern reads everything.
import { describe, expect, it } from 'vitest';
import { EventStream, type CertEvent } from '@fsm-certs/queue';
import { sha256Hex } from './auth/tokens.js';
import { GRANTS, TOKENS, harnessPerTest, problemOf } from './testing/harness.test-helpers.js';
import { sseReader, type SseMessage } from './testing/sse.test-helpers.js';

const ctx = harnessPerTest();

const V1 = 'bookstore-v1.bookstore.cluster.local';
const V2 = 'bookstore-v2.bookstore.cluster.local';
const PAYMENTS = 'payments.payments.cluster.local';

interface CertJson {
  commonName: string;
  serialNumber: string;
  certificate: string;
}

interface ListJson {
  items: CertJson[];
  nextCursor: string | null;
  unreadable: string[];
}

async function adminIssue(body: object): Promise<CertJson> {
  const res = await ctx.h.call('POST', '/v1/certificates', { token: TOKENS.admin, body });
  expect(res.status).toBe(201);
  return (await res.json()) as CertJson;
}

/** The admin's certificate whose CN the bookstore token covers but whose other names it does not. */
const multiName = (): Promise<CertJson> =>
  adminIssue({ commonName: V1, sans: [PAYMENTS, '10.0.0.7'], spiffe: { namespace: 'payments', serviceAccount: 'payments' } });

async function listAll(token: string): Promise<ListJson> {
  const items: CertJson[] = [];
  const unreadable: string[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 20; page++) {
    const res: Response = await ctx.h.call('GET', `/v1/certificates?limit=2${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`, { token });
    expect(res.status).toBe(200);
    const body = (await res.json()) as ListJson;
    items.push(...body.items);
    unreadable.push(...body.unreadable);
    cursor = body.nextCursor;
    if (cursor === null) break;
  }
  expect(cursor).toBeNull();
  return { items, nextCursor: null, unreadable };
}

describe('GET /v1/certificates/{cn} with a name-restricted token', () => {
  it('refuses the admin-issued multi-name certificate with 403 NAME_NOT_ALLOWED, without naming its other names', async () => {
    await multiName();
    const res = await ctx.h.call('GET', `/v1/certificates/${V1}`, { token: TOKENS.bookstore });
    expect(res.status).toBe(403);
    const problem = await problemOf(res);
    expect(problem.code).toBe('NAME_NOT_ALLOWED');
    const text = JSON.stringify(problem);
    expect(text).not.toContain('payments');
    expect(text).not.toContain('10.0.0.7');
    expect(text).not.toContain('BEGIN CERTIFICATE');
  });

  it('serves a certificate all of whose names the token covers', async () => {
    const issued = await adminIssue({ commonName: V1, sans: [V2], spiffe: true });
    const res = await ctx.h.call('GET', `/v1/certificates/${V1}`, { token: TOKENS.bookstore });
    expect(res.status).toBe(200);
    expect(((await res.json()) as CertJson).serialNumber).toBe(issued.serialNumber);
  });

  it('answers the same 403 for a name outside its patterns whether or not a certificate exists', async () => {
    await adminIssue({ commonName: PAYMENTS });
    const answers = [];
    for (const [method, path] of [
      ['GET', `/v1/certificates/${PAYMENTS}`],
      ['GET', '/v1/certificates/nobody.payments.cluster.local'],
      ['POST', `/v1/certificates/${PAYMENTS}/rotate`],
      ['POST', '/v1/certificates/nobody.payments.cluster.local/rotate'],
      ['DELETE', `/v1/certificates/${PAYMENTS}`],
      ['DELETE', '/v1/certificates/nobody.payments.cluster.local'],
    ] as const) {
      const res = await ctx.h.call(method, path, { token: TOKENS.bookstore });
      answers.push([method, res.status, (await problemOf(res)).code]);
    }
    expect(answers).toEqual([
      ['GET', 403, 'NAME_NOT_ALLOWED'],
      ['GET', 403, 'NAME_NOT_ALLOWED'],
      ['POST', 403, 'NAME_NOT_ALLOWED'],
      ['POST', 403, 'NAME_NOT_ALLOWED'],
      ['DELETE', 403, 'NAME_NOT_ALLOWED'],
      ['DELETE', 403, 'NAME_NOT_ALLOWED'],
    ]);
    expect(await ctx.h.inventory.get(PAYMENTS)).toBeDefined();
  });

  it('still answers 404 for a covered name that has no certificate', async () => {
    const res = await ctx.h.call('GET', `/v1/certificates/${V2}`, { token: TOKENS.bookstore });
    expect(res.status).toBe(404);
    expect((await problemOf(res)).code).toBe('CERTIFICATE_NOT_FOUND');
  });
});

describe('GET /v1/certificates lists what the caller could GET', () => {
  it('hides the multi-name and other namespaces\' certificates from the bookstore token, page after page, and shows them to a `*` reader', async () => {
    await multiName();
    await adminIssue({ commonName: PAYMENTS });
    await adminIssue({ commonName: V2 });
    await adminIssue({ commonName: 'a.bookstore.cluster.local' });
    const bookstore = await listAll(TOKENS.bookstore);
    expect(bookstore.items.map((c) => c.commonName).sort()).toEqual(['a.bookstore.cluster.local', V2]);
    const reader = await listAll(TOKENS.reader);
    expect(reader.items.map((c) => c.commonName).sort()).toEqual(['a.bookstore.cluster.local', V1, V2, PAYMENTS].sort());
  });

  it('shows nothing to a read token with an empty name list, and refuses it every GET', async () => {
    const blind = 'no-names-reader-token-0123456789';
    await ctx.restart({ options: { tokens: [...GRANTS, { name: 'blind', sha256: sha256Hex(blind), scopes: ['read'], names: [] }] } });
    await adminIssue({ commonName: V2 });
    expect((await listAll(blind)).items).toEqual([]);
    const res = await ctx.h.call('GET', `/v1/certificates/${V2}`, { token: blind });
    expect(res.status).toBe(403);
    expect((await problemOf(res)).code).toBe('NAME_NOT_ALLOWED');
  });
});

describe('GET /v1/events with a name-restricted token', () => {
  const subscribed = (ms: SseMessage[]): boolean => ms.some((m) => m.comment === 'subscribed');
  const withData = (ms: SseMessage[]): SseMessage[] => ms.filter((m) => m.data !== undefined);
  const issued = (commonName: string, serial: string): CertEvent => ({
    version: 1,
    at: new Date().toISOString(),
    kind: 'issued',
    commonName,
    serialNumber: serial,
    notAfter: new Date(Date.now() + 3600_000).toISOString(),
  });

  const serialOf = (m: SseMessage): string | undefined => (JSON.parse(m.data ?? '{}') as { serialNumber?: string }).serialNumber;

  it('delivers events of the names it covers and skips the others, live and on resume', async () => {
    const events = new EventStream(ctx.shared.redis, { prefix: ctx.h.prefix });
    const first = await events.publish(issued('seed.bookstore.cluster.local', '01'));
    const res = await ctx.h.call('GET', '/v1/events', { token: TOKENS.bookstore, headers: { 'last-event-id': first } });
    expect(res.status).toBe(200);
    const sse = sseReader(res);
    await sse.until(subscribed);
    await events.publish(issued(PAYMENTS, '02'));
    await events.publish(issued(V1, '03'));
    await events.publish(issued('other.payments.cluster.local', '04'));
    await events.publish(issued(V2, '05'));
    const got = withData(await sse.until((ms) => withData(ms).length >= 2));
    await sse.close();
    expect(got.map((m) => serialOf(m))).toEqual(['03', '05']);

    const reader = await ctx.h.call('GET', '/v1/events', { token: TOKENS.reader, headers: { 'last-event-id': first } });
    const all = sseReader(reader);
    const everything = withData(await all.until((ms) => withData(ms).length >= 4));
    await all.close();
    expect(everything.map((m) => serialOf(m))).toEqual(['02', '03', '04', '05']);
  });
});
