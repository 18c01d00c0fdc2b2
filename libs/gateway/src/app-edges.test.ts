// The edges of the HTTP API a hostile or confused client reaches: bodies whose Content-Encoding
// lies or explodes, paths that do not percent-decode, methods a path does not have, and requests
// the HTTP schema accepts but the issue job contract would refuse. Each is a 4xx, issues nothing,
// and logs no stack trace; the fast lane (exactly POST /v1/certificates) and express (the same
// route with a query string) answer alike.
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { RecordingLogger, TOKENS, harnessPerTest, problemOf } from './testing/harness.test-helpers.js';

const ctx = harnessPerTest();
const LANES = [
  ['the fast lane', '/v1/certificates'],
  ['express', '/v1/certificates?via=express'],
] as const;

async function post(path: string, body: string | Uint8Array, headers: Record<string, string>): Promise<Response> {
  return fetch(ctx.h.baseUrl + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKENS.bookstore}`, 'content-type': 'application/json', ...headers },
    body,
  });
}

async function withLogger(): Promise<RecordingLogger> {
  const logger = new RecordingLogger();
  await ctx.restart({ logger });
  return logger;
}

const json = JSON.stringify({ commonName: 'ratings.bookstore.cluster.local' });

describe.each(LANES)('request bodies through %s', (_lane, path) => {
  it.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
  ] as const)('decodes a %s body and issues', async (encoding, compress) => {
    const res = await post(path, compress(json), { 'content-encoding': encoding });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { commonName: string }).commonName).toBe('ratings.bookstore.cluster.local');
  });

  it.each(['gzip', 'deflate', 'br', 'GZIP'])('answers a plain body labelled %s with 400, issuing nothing and logging no stack', async (encoding) => {
    const logger = await withLogger();
    const res = await post(path, json, { 'content-encoding': encoding });
    expect(res.status).toBe(400);
    expect((await problemOf(res)).code).toBe('INVALID_BODY');
    expect(ctx.h.issueClient.batches).toHaveLength(0);
    expect(logger.alarming()).toEqual([]);
  });

  it('answers a truncated gzip stream with 400', async () => {
    const whole = gzipSync(json);
    const res = await post(path, whole.subarray(0, whole.length - 6), { 'content-encoding': 'gzip' });
    expect(res.status).toBe(400);
    expect((await problemOf(res)).code).toBe('INVALID_BODY');
  });

  it.each(['compress', 'zstd', 'gzip, br'])('refuses Content-Encoding %j with 415', async (encoding) => {
    const res = await post(path, json, { 'content-encoding': encoding });
    expect(res.status).toBe(415);
    expect((await problemOf(res)).code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(ctx.h.issueClient.batches).toHaveLength(0);
  });

  it('counts the body limit on the decoded bytes: a small gzip that inflates past 64kb is 413 (a zip bomb stops there)', async () => {
    const bomb = gzipSync(`{"commonName":"a.bookstore.cluster.local","x":"${' '.repeat(20 * 1024 * 1024)}"}`);
    expect(bomb.length).toBeLessThan(64 * 1024);
    const logger = await withLogger();
    const res = await post(path, bomb, { 'content-encoding': 'gzip' });
    expect(res.status).toBe(413);
    expect((await problemOf(res)).code).toBe('BODY_TOO_LARGE');
    expect(ctx.h.issueClient.batches).toHaveLength(0);
    expect(logger.alarming()).toEqual([]);
    // The connection and the gateway stay usable.
    expect((await post(path, json, {})).status).toBe(201);
  });

  it('refuses a body that is not UTF-8 application/json with 415', async () => {
    for (const type of ['text/plain', 'application/json; charset=latin1', 'application/x-www-form-urlencoded']) {
      const res = await post(path, json, { 'content-type': type });
      expect(res.status, type).toBe(415);
    }
  });
});

describe('paths that do not percent-decode', () => {
  it.each([
    ['GET', '/v1/certificates/%E0%A4%A'],
    ['GET', '/v1/certificates/%'],
    ['DELETE', '/v1/certificates/%E0%A4%A'],
    ['POST', '/v1/certificates/%ZZ/rotate'],
  ])('%s %s is 400 INVALID_NAME with no stack trace in the log', async (method, path) => {
    const logger = await withLogger();
    const res = await ctx.h.call(method, path, { token: TOKENS.admin });
    expect(res.status).toBe(400);
    const problem = await problemOf(res);
    expect(problem.code).toBe('INVALID_NAME');
    expect(problem.detail).not.toMatch(/at .*\.js|URIError/);
    expect(logger.alarming()).toEqual([]);
  });
});

describe('methods a path does not have', () => {
  it.each([
    ['PUT', '/v1/certificates', 'GET, HEAD, POST'],
    ['PATCH', '/v1/certificates/a.bookstore.cluster.local', 'DELETE, GET, HEAD'],
    ['GET', '/v1/certificates/a.bookstore.cluster.local/rotate', 'POST'],
    ['POST', '/healthz', 'GET, HEAD'],
    ['DELETE', '/v1/ca', 'GET, HEAD'],
  ])('%s %s is 405 with Allow: %s', async (method, path, allow) => {
    const res = await ctx.h.call(method, path, { token: TOKENS.admin });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe(allow);
    expect((await problemOf(res)).code).toBe('METHOD_NOT_ALLOWED');
  });

  it('still answers an unknown path with 404', async () => {
    const res = await ctx.h.call('PUT', '/v1/nothing', { token: TOKENS.admin });
    expect(res.status).toBe(404);
  });
});

describe('a request the HTTP schema accepts but the issue job contract refuses', () => {
  it('is a 400 for that request alone; the requests batched with it are issued', async () => {
    // A wide window so all three travel together.
    await ctx.restart({ options: { batchWindowMs: 200 } });
    // 100 URI SANs is the most the HTTP schema allows; the derived SPIFFE id makes 101 URIs,
    // one more than an issue job item may carry.
    const sans = Array.from({ length: 100 }, (_, i) => `https://svc-${i}.example.com/`);
    const overfull = { commonName: 'big.example.com', sans, spiffe: { namespace: 'ns', serviceAccount: 'sa' } };
    const [a, big, b] = await Promise.all([
      ctx.h.call('POST', '/v1/certificates', { token: TOKENS.admin, body: { commonName: 'one.example.com' } }),
      ctx.h.call('POST', '/v1/certificates', { token: TOKENS.admin, body: overfull }),
      ctx.h.call('POST', '/v1/certificates', { token: TOKENS.admin, body: { commonName: 'two.example.com' } }),
    ]);
    expect(big.status).toBe(400);
    expect((await problemOf(big)).code).toBe('INVALID_BODY');
    expect([a.status, b.status]).toEqual([201, 201]);
    const queued = ctx.h.issueClient.batches.flat().map((i) => i.commonName);
    expect(queued.sort()).toEqual(['one.example.com', 'two.example.com']);
  });
});
