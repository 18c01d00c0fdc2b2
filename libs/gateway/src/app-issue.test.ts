// POST /v1/certificates over real HTTP with a real Redis inventory and a fake ca-service.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createCsr, generateKeyPair } from '@fsm-certs/x509';
import { GatewayError } from './errors.js';
import { TOKENS, harnessPerTest, problemOf } from './testing/harness.test-helpers.js';

interface CertJson {
  commonName: string;
  serialNumber: string;
  certificate: string;
  chain: string[];
  issuingCA: string;
  trustedCAs: string[];
  notBefore: string;
  notAfter: string;
  renewAt: string;
  privateKey?: string;
  uris: string[];
  dnsNames: string[];
  mode: string;
}

const ctx = harnessPerTest();
const dir = mkdtempSync(path.join(tmpdir(), 'gw-issue-'));

function openssl(args: string[], input?: string): string {
  return execFileSync('openssl', args, { encoding: 'utf8', ...(input === undefined ? {} : { input }) });
}

describe('POST /v1/certificates', () => {
  it('issues a server-key certificate that openssl verifies against the CA, with a matching private key', async () => {
    const res = await ctx.h.call('POST', '/v1/certificates', { token: TOKENS.bookstore, body: { commonName: 'bookstore-v2.bookstore.cluster.local' } });
    expect(res.status).toBe(201);
    const cert = (await res.json()) as CertJson;
    expect(cert.commonName).toBe('bookstore-v2.bookstore.cluster.local');
    expect(cert.privateKey).toMatch(/BEGIN PRIVATE KEY/);
    expect(cert.trustedCAs).toHaveLength(1);
    const caFile = path.join(dir, 'ca.pem');
    const leafFile = path.join(dir, 'leaf.pem');
    writeFileSync(caFile, cert.issuingCA);
    writeFileSync(leafFile, cert.certificate);
    expect(openssl(['verify', '-CAfile', caFile, leafFile])).toContain(': OK');
    const certPub = openssl(['x509', '-noout', '-pubkey', '-in', leafFile]);
    const keyPub = openssl(['pkey', '-pubout'], cert.privateKey);
    expect(keyPub).toBe(certPub);
    // Validity defaults to the configured 24h.
    expect(Date.parse(cert.notAfter) - Date.parse(cert.notBefore)).toBeGreaterThanOrEqual(24 * 3600 * 1000 - 120_000);
  });

  it('in CSR mode takes the identity from the request, only the key from the CSR, and returns no private key', async () => {
    const keys = generateKeyPair('ecdsa-p256');
    const csr = createCsr({ commonName: 'evil.example.com', dnsNames: ['evil.example.com'], keyPair: keys });
    const res = await ctx.h.call('POST', '/v1/certificates', { token: TOKENS.bookstore, body: { commonName: 'reviews.bookstore.cluster.local', csr } });
    expect(res.status).toBe(201);
    const cert = (await res.json()) as CertJson;
    expect(cert.privateKey).toBeUndefined();
    expect(cert.mode).toBe('csr');
    const text = openssl(['x509', '-noout', '-subject', '-ext', 'subjectAltName'], cert.certificate);
    expect(text).toContain('reviews.bookstore.cluster.local');
    expect(text).not.toContain('evil.example.com');
    const certPub = openssl(['x509', '-noout', '-pubkey'], cert.certificate);
    expect(certPub).toBe(keys.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  });

  it('refuses an RSA CSR with public exponent 3 (made by openssl) with 400 INVALID_CSR naming 65537', async () => {
    const keyFile = path.join(dir, 'e3.key');
    const csr = openssl(['req', '-new', '-newkey', 'rsa:2048', '-pkeyopt', 'rsa_keygen_pubexp:3', '-nodes', '-keyout', keyFile, '-subj', '/CN=e3.bookstore.cluster.local']);
    const res = await ctx.h.call('POST', '/v1/certificates', { token: TOKENS.bookstore, body: { commonName: 'e3.bookstore.cluster.local', csr } });
    expect(res.status).toBe(400);
    const problem = await problemOf(res);
    expect(problem.code).toBe('INVALID_CSR');
    expect(problem.detail).toContain('65537');
    expect(ctx.h.issueClient.batches).toEqual([]);
  });

  it('adds a SPIFFE URI derived from a <sa>.<ns>.<trustDomain> common name', async () => {
    const res = await ctx.h.call('POST', '/v1/certificates', { token: TOKENS.bookstore, body: { commonName: 'bookstore-v1.bookstore.cluster.local', spiffe: true } });
    expect(res.status).toBe(201);
    const cert = (await res.json()) as CertJson;
    expect(cert.uris).toEqual(['spiffe://cluster.local/ns/bookstore/sa/bookstore-v1']);
    expect(openssl(['x509', '-noout', '-ext', 'subjectAltName'], cert.certificate)).toContain('URI:spiffe://cluster.local/ns/bookstore/sa/bookstore-v1');
  });

  it('answers 201 with Location and a JSON content type, for plain, charset-qualified and gzip-compressed bodies', async () => {
    const body = JSON.stringify({ commonName: 'ratings.bookstore.cluster.local' });
    const plain = await ctx.h.call('POST', '/v1/certificates', { token: TOKENS.bookstore, body });
    expect(plain.status).toBe(201);
    expect(plain.headers.get('location')).toBe('/v1/certificates/ratings.bookstore.cluster.local');
    expect(plain.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(((await plain.json()) as CertJson).commonName).toBe('ratings.bookstore.cluster.local');
    const charset = await ctx.h.call('POST', '/v1/certificates', { token: TOKENS.bookstore, body, headers: { 'content-type': 'application/json; charset=UTF-8' } });
    expect(charset.status).toBe(201);
    const gzip = await fetch(`${ctx.h.baseUrl}/v1/certificates`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKENS.bookstore}`, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(body),
    });
    expect(gzip.status).toBe(201);
    expect(((await gzip.json()) as CertJson).privateKey).toMatch(/BEGIN PRIVATE KEY/);
  });

  it('answers the same through express when the fast lane does not apply (query string, trailing slash)', async () => {
    for (const path of ['/v1/certificates?via=express', '/v1/certificates/']) {
      const res = await ctx.h.call('POST', path, { token: TOKENS.bookstore, body: { commonName: 'details.bookstore.cluster.local' } });
      expect(res.status).toBe(201);
      expect(res.headers.get('location')).toBe('/v1/certificates/details.bookstore.cluster.local');
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(((await res.json()) as CertJson).privateKey).toMatch(/BEGIN PRIVATE KEY/);
      const refused = await ctx.h.call('POST', path, { token: TOKENS.bookstore, body: { commonName: 'a.payments.cluster.local' } });
      expect(refused.status).toBe(403);
      expect((await problemOf(refused)).code).toBe('NAME_NOT_ALLOWED');
    }
  });

  it('batches concurrent requests into one job and lets identical requests share one issuance', async () => {
    // No window ends by itself: the test ends it once every request has reached the batcher, so
    // what goes together depends on the batcher's rules, not on how fast requests arrive.
    await ctx.restart({ options: { batchWindowMs: 600_000 } });
    const release = ctx.h.issueClient.hold();
    const names = Array.from({ length: 10 }, (_, i) => `svc-${i}.bookstore.cluster.local`);
    const requests = [...names, names[0], names[0]].map((commonName) =>
      ctx.h.call('POST', '/v1/certificates', { token: TOKENS.bookstore, body: { commonName } }),
    );
    await ctx.h.submitted(12);
    ctx.h.gateway.batcher.flush();
    await ctx.h.issueClient.whenItems(10);
    release();
    const answers = await Promise.all(requests);
    expect(answers.map((r) => r.status)).toEqual(Array(12).fill(201));
    const bodies = (await Promise.all(answers.map((r) => r.json()))) as CertJson[];
    expect(ctx.h.issueClient.batches.flat()).toHaveLength(10);
    // The first request of an idle gateway leaves alone; the rest gather while jobs are in flight.
    expect(ctx.h.issueClient.batches.length).toBeLessThan(names.length);
    expect(Math.max(...ctx.h.issueClient.batches.map((b) => b.length))).toBeGreaterThan(1);
    expect(bodies[10]?.serialNumber).toBe(bodies[0]?.serialNumber);
    expect(bodies[11]?.serialNumber).toBe(bodies[0]?.serialNumber);
  });

  it('sends a batch once it holds its share of the demand or batchMax items, without waiting for the window', async () => {
    // The window is far longer than the test timeout: only a flush on share or batchMax can answer.
    await ctx.restart({ options: { batchMax: 2, batchWindowMs: 600_000 } });
    const release = ctx.h.issueClient.hold();
    // One at a time, each once the previous reached the batcher, with every batch still in flight:
    // demand grows 1, 2, ... 6, so the shares are 1, 1, 2, 2, 2, 2 (batchMax 2).
    const requests: Array<Promise<Response>> = [];
    for (const i of [0, 1, 2, 3, 4, 5]) {
      requests.push(ctx.h.call('POST', '/v1/certificates', { token: TOKENS.bookstore, body: { commonName: `m${i}.bookstore.cluster.local` } }));
      await ctx.h.submitted(i + 1);
    }
    await ctx.h.issueClient.whenItems(6);
    expect(ctx.h.issueClient.batches.map((b) => b.length)).toEqual([1, 1, 2, 2]);
    release();
    const answers = await Promise.all(requests);
    expect(answers.map((r) => r.status)).toEqual(Array(6).fill(201));
  });
});

describe('POST /v1/certificates: refusals', () => {
  const cases: Array<{ name: string; token?: string; body: unknown; status: number; code: string; headers?: Record<string, string> }> = [
    { name: 'no token is 401', body: { commonName: 'a.bookstore.cluster.local' }, status: 401, code: 'UNAUTHENTICATED' },
    { name: 'an unknown token is 401', token: 'not-a-real-token-000000', body: { commonName: 'a.bookstore.cluster.local' }, status: 401, code: 'UNAUTHENTICATED' },
    { name: 'a read-only token is 403', token: TOKENS.reader, body: { commonName: 'a.bookstore.cluster.local' }, status: 403, code: 'FORBIDDEN' },
    { name: 'a name outside the patterns is 403', token: TOKENS.bookstore, body: { commonName: 'a.payments.cluster.local' }, status: 403, code: 'NAME_NOT_ALLOWED' },
    { name: 'a one-label pattern does not cover two labels', token: TOKENS.bookstore, body: { commonName: 'x.a.bookstore.cluster.local' }, status: 403, code: 'NAME_NOT_ALLOWED' },
    { name: 'a SAN outside the patterns is 403', token: TOKENS.bookstore, body: { commonName: 'a.bookstore.cluster.local', sans: ['evil.example.com'] }, status: 403, code: 'NAME_NOT_ALLOWED' },
    { name: 'an IP SAN needs an unrestricted token', token: TOKENS.bookstore, body: { commonName: 'a.bookstore.cluster.local', sans: ['10.0.0.1'] }, status: 403, code: 'NAME_NOT_ALLOWED' },
    { name: 'a bad common name is 400', token: TOKENS.anyName, body: { commonName: 'bad name!' }, status: 400, code: 'INVALID_NAME' },
    { name: 'an empty common name is 400', token: TOKENS.anyName, body: { commonName: '' }, status: 400, code: 'INVALID_NAME' },
    { name: 'a bad SAN is 400', token: TOKENS.anyName, body: { commonName: 'a.example.com', sans: ['not a name'] }, status: 400, code: 'INVALID_NAME' },
    { name: 'a malformed duration is 400', token: TOKENS.anyName, body: { commonName: 'a.example.com', validity: '24 hours' }, status: 400, code: 'INVALID_DURATION' },
    { name: 'a validity under 10m is 400', token: TOKENS.anyName, body: { commonName: 'a.example.com', validity: '5m' }, status: 400, code: 'INVALID_DURATION' },
    { name: 'a garbage CSR is 400', token: TOKENS.anyName, body: { commonName: 'a.example.com', csr: '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n' }, status: 400, code: 'INVALID_CSR' },
    { name: 'spiffe:true with a CN of the wrong shape is 400', token: TOKENS.anyName, body: { commonName: 'a.example.com', spiffe: true }, status: 400, code: 'INVALID_SPIFFE' },
    { name: 'an unknown field is 400', token: TOKENS.anyName, body: { commonName: 'a.example.com', ttl: '1h' }, status: 400, code: 'INVALID_BODY' },
    { name: 'an unknown key algorithm is 400', token: TOKENS.anyName, body: { commonName: 'a.example.com', keyAlgorithm: 'dsa-1024' }, status: 400, code: 'INVALID_BODY' },
    { name: 'a JSON array body is 400', token: TOKENS.anyName, body: [], status: 400, code: 'INVALID_BODY' },
    { name: 'broken JSON is 400', token: TOKENS.anyName, body: '{"commonName":', status: 400, code: 'INVALID_BODY' },
    { name: 'a text body is 415', token: TOKENS.anyName, body: 'commonName=a', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', headers: { 'content-type': 'text/plain' } },
    { name: 'a body over the limit is 413', token: TOKENS.anyName, body: { commonName: 'a.example.com', csr: 'x'.repeat(70 * 1024) }, status: 413, code: 'BODY_TOO_LARGE' },
  ];
  it.each(cases)('$name', async ({ token, body, status, code, headers }) => {
    const res = await ctx.h.call('POST', '/v1/certificates', { ...(token === undefined ? {} : { token }), body, ...(headers ? { headers } : {}) });
    expect(res.status).toBe(status);
    const problem = await problemOf(res);
    expect(problem).toMatchObject({ status, code });
    expect(problem.type).toMatch(/^https:\/\//);
    expect(problem.detail.length).toBeGreaterThan(0);
    expect(ctx.h.issueClient.batches).toHaveLength(0);
  });

  it('a CSR whose signature does not verify is 400 INVALID_CSR', async () => {
    const keys = generateKeyPair('ecdsa-p256');
    const csr = createCsr({ commonName: 'x.example.com', keyPair: keys });
    const der = Buffer.from(csr.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    der[der.length - 5] = (der[der.length - 5] ?? 0) ^ 0xff; // inside the signature
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE REQUEST-----\n`;
    const res = await ctx.h.call('POST', '/v1/certificates', { token: TOKENS.anyName, body: { commonName: 'x.example.com', csr: tampered } });
    expect(res.status).toBe(400);
    expect((await problemOf(res)).code).toBe('INVALID_CSR');
  });

  it('answers 503 with Retry-After when the queue is unreachable', async () => {
    ctx.h.issueClient.failWith = new GatewayError('BACKEND_UNAVAILABLE', 'The issue queue (Redis) is unreachable.', { retryAfterSeconds: 3 });
    const res = await ctx.h.call('POST', '/v1/certificates', { token: TOKENS.bookstore, body: { commonName: 'a.bookstore.cluster.local' } });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('3');
    expect((await problemOf(res)).code).toBe('BACKEND_UNAVAILABLE');
  });

  it('answers 504 when issuance times out', async () => {
    ctx.h.issueClient.failWith = new GatewayError('ISSUANCE_TIMEOUT', 'No certificate arrived within 5000 ms.');
    const res = await ctx.h.call('POST', '/v1/certificates', { token: TOKENS.bookstore, body: { commonName: 'a.bookstore.cluster.local' } });
    expect(res.status).toBe(504);
    expect((await problemOf(res)).code).toBe('ISSUANCE_TIMEOUT');
  });

  it('passes a ca-service item error through with its own code and status, failing only that item', async () => {
    ctx.h.issueClient.behaviour = (item) =>
      item.commonName.startsWith('denied')
        ? { requestId: item.requestId, ok: false, error: { code: 'NAME_NOT_ALLOWED', message: 'Vault role refuses this name.', httpStatus: 403, retryable: false } }
        : undefined;
    const [bad, good] = await Promise.all([
      ctx.h.call('POST', '/v1/certificates', { token: TOKENS.bookstore, body: { commonName: 'denied.bookstore.cluster.local' } }),
      ctx.h.call('POST', '/v1/certificates', { token: TOKENS.bookstore, body: { commonName: 'fine.bookstore.cluster.local' } }),
    ]);
    expect(bad.status).toBe(403);
    expect(await problemOf(bad)).toMatchObject({ code: 'NAME_NOT_ALLOWED', detail: 'Vault role refuses this name.' });
    expect(good.status).toBe(201);
  });

  it('a bug becomes a 500 that leaks nothing of the cause', async () => {
    ctx.h.issueClient.failWith = new Error('ECONNFOO at /srv/secret/path token=abc');
    const res = await ctx.h.call('POST', '/v1/certificates', { token: TOKENS.bookstore, body: { commonName: 'a.bookstore.cluster.local' } });
    expect(res.status).toBe(500);
    const problem = await problemOf(res);
    expect(problem.code).toBe('INTERNAL');
    expect(JSON.stringify(problem)).not.toMatch(/secret|token=|ECONNFOO/);
  });

  it('rate-limits per token with 429 and Retry-After, leaving other tokens alone', async () => {
    await ctx.restart({ options: { rateLimitPerSec: 2 } });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const res = await ctx.h.call('GET', '/v1/certificates', { token: TOKENS.reader });
      statuses.push(res.status);
      if (res.status === 429) {
        expect(res.headers.get('retry-after')).toBe('1');
        expect((await problemOf(res)).code).toBe('RATE_LIMITED');
      }
    }
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
    expect((await ctx.h.call('GET', '/v1/certificates', { token: TOKENS.admin })).status).toBe(200);
    ctx.h.clock.advance(1000);
    expect((await ctx.h.call('GET', '/v1/certificates', { token: TOKENS.reader })).status).toBe(200);
  });
});
