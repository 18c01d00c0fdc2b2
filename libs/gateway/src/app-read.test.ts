// Reads, rotation, release, trust bundle, health and metrics over real HTTP with a real Redis.
import { describe, expect, it } from 'vitest';
import { TOKENS, harnessPerTest, problemOf } from './testing/harness.test-helpers.js';

const ctx = harnessPerTest();

interface CertJson {
  commonName: string;
  serialNumber: string;
  certificate: string;
  privateKey?: string;
}

async function issue(commonName: string, token: string = TOKENS.bookstore): Promise<CertJson> {
  const res = await ctx.h.call('POST', '/v1/certificates', { token, body: { commonName } });
  expect(res.status).toBe(201);
  return (await res.json()) as CertJson;
}

describe('GET /v1/certificates/{cn}', () => {
  it('serves the stored certificate without the private key and without a queue hop', async () => {
    const issued = await issue('details.bookstore.cluster.local');
    const batches = ctx.h.issueClient.batches.length;
    const res = await ctx.h.call('GET', '/v1/certificates/Details.Bookstore.Cluster.Local', { token: TOKENS.reader });
    expect(res.status).toBe(200);
    const got = (await res.json()) as CertJson;
    expect(got.serialNumber).toBe(issued.serialNumber);
    expect(got.certificate).toBe(issued.certificate);
    expect(got.privateKey).toBeUndefined();
    expect(ctx.h.issueClient.batches.length).toBe(batches);
  });

  it('gives an admin the key with includeKey=true and refuses it to anyone else', async () => {
    const issued = await issue('keyed.bookstore.cluster.local');
    const admin = await ctx.h.call('GET', '/v1/certificates/keyed.bookstore.cluster.local?includeKey=true', { token: TOKENS.admin });
    expect(((await admin.json()) as CertJson).privateKey).toBe(issued.privateKey);
    const reader = await ctx.h.call('GET', '/v1/certificates/keyed.bookstore.cluster.local?includeKey=true', { token: TOKENS.reader });
    expect(reader.status).toBe(403);
    expect((await problemOf(reader)).code).toBe('FORBIDDEN');
  });

  it.each([
    ['an unknown name is 404', '/v1/certificates/nobody.bookstore.cluster.local', 404, 'CERTIFICATE_NOT_FOUND'],
    ['an invalid name is 400', '/v1/certificates/bad%20name', 400, 'INVALID_NAME'],
    ['a bad includeKey is 400', '/v1/certificates/a.b?includeKey=yes', 400, 'INVALID_QUERY'],
    ['an unknown route is 404', '/v1/nothing-here', 404, 'NOT_FOUND'],
  ])('%s', async (_name, path, status, code) => {
    const res = await ctx.h.call('GET', path, { token: TOKENS.reader });
    expect(res.status).toBe(status);
    expect((await problemOf(res)).code).toBe(code);
  });

  it('needs a token with the read scope', async () => {
    await issue('scoped.bookstore.cluster.local');
    expect((await ctx.h.call('GET', '/v1/certificates/scoped.bookstore.cluster.local')).status).toBe(401);
    const res = await ctx.h.call('GET', '/v1/certificates/scoped.bookstore.cluster.local', { token: TOKENS.anyName });
    expect(res.status).toBe(403);
  });
});

describe('GET /v1/certificates (pagination)', () => {
  it('pages through every certificate exactly once in name order', async () => {
    const names = Array.from({ length: 7 }, (_, i) => `p${i}.bookstore.cluster.local`);
    await Promise.all(names.map((n) => issue(n)));
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor === null ? '?limit=3' : `?limit=3&cursor=${encodeURIComponent(cursor)}`;
      const res = await ctx.h.call('GET', `/v1/certificates${query}`, { token: TOKENS.reader });
      expect(res.status).toBe(200);
      const page = (await res.json()) as { items: Array<{ commonName: string; privateKey?: string; certificate: string }>; nextCursor: string | null };
      expect(page.items.length).toBeLessThanOrEqual(3);
      for (const item of page.items) {
        expect(item.privateKey).toBeUndefined();
        expect(item.certificate).toMatch(/BEGIN CERTIFICATE/);
      }
      seen.push(...page.items.map((i) => i.commonName));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor !== null && pages < 10);
    expect(seen).toEqual([...names].sort());
    expect(pages).toBe(3);
  });

  it.each([['limit=0'], ['limit=1001'], ['limit=abc'], ['cursor=a%20b']])('rejects %s with 400 INVALID_QUERY', async (query) => {
    const res = await ctx.h.call('GET', `/v1/certificates?${query}`, { token: TOKENS.reader });
    expect(res.status).toBe(400);
    expect((await problemOf(res)).code).toBe('INVALID_QUERY');
  });
});

describe('POST /v1/certificates/{cn}/rotate', () => {
  it('re-issues with the stored parameters as a rotate-manual item and returns the new certificate', async () => {
    const first = await issue('rot.bookstore.cluster.local');
    const res = await ctx.h.call('POST', '/v1/certificates/rot.bookstore.cluster.local/rotate', { token: TOKENS.bookstore });
    expect(res.status).toBe(200);
    const rotated = (await res.json()) as CertJson;
    expect(rotated.serialNumber).not.toBe(first.serialNumber);
    expect(rotated.privateKey).toMatch(/PRIVATE KEY/);
    const item = ctx.h.issueClient.batches.at(-1)?.[0];
    expect(item).toMatchObject({ commonName: 'rot.bookstore.cluster.local', reason: 'rotate-manual', expectSerial: first.serialNumber });
  });

  it('is 404 for an unknown name and 403 outside the token patterns', async () => {
    const missing = await ctx.h.call('POST', '/v1/certificates/none.bookstore.cluster.local/rotate', { token: TOKENS.bookstore });
    expect(missing.status).toBe(404);
    await issue('other.example.com', TOKENS.anyName);
    const denied = await ctx.h.call('POST', '/v1/certificates/other.example.com/rotate', { token: TOKENS.bookstore });
    expect(denied.status).toBe(403);
    expect((await problemOf(denied)).code).toBe('NAME_NOT_ALLOWED');
  });
});

describe('DELETE /v1/certificates/{cn}', () => {
  it('removes the name and announces `released`', async () => {
    const issued = await issue('gone.bookstore.cluster.local');
    const controller = new AbortController();
    const received = (async () => {
      for await (const e of ctx.h.events.subscribe({ fromId: '0', signal: controller.signal })) {
        if (e.event.kind === 'released') return e.event;
      }
      return undefined;
    })();
    const res = await ctx.h.call('DELETE', '/v1/certificates/gone.bookstore.cluster.local', { token: TOKENS.bookstore });
    expect(res.status).toBe(204);
    expect(await received).toMatchObject({ kind: 'released', commonName: 'gone.bookstore.cluster.local', serialNumber: issued.serialNumber });
    controller.abort();
    expect((await ctx.h.call('GET', '/v1/certificates/gone.bookstore.cluster.local', { token: TOKENS.reader })).status).toBe(404);
    expect((await ctx.h.call('DELETE', '/v1/certificates/gone.bookstore.cluster.local', { token: TOKENS.bookstore })).status).toBe(404);
  });
});

describe('GET /v1/ca', () => {
  it('is 503 with Retry-After before the ca-service wrote a bundle', async () => {
    const res = await ctx.h.call('GET', '/v1/ca');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('2');
  });

  it('serves PEM by default and JSON when asked, without a token', async () => {
    await ctx.h.inventory.setTrustBundle({ issuingCaPem: ctx.shared.ca.certificatePem, trustedCasPem: [ctx.shared.ca.certificatePem], rootNotAfter: ctx.shared.ca.issuer.notAfter });
    const pem = await ctx.h.call('GET', '/v1/ca');
    expect(pem.status).toBe(200);
    expect(pem.headers.get('content-type')).toContain('application/x-pem-file');
    expect(await pem.text()).toBe(ctx.shared.ca.certificatePem.endsWith('\n') ? ctx.shared.ca.certificatePem : `${ctx.shared.ca.certificatePem}\n`);
    const json = await ctx.h.call('GET', '/v1/ca', { headers: { accept: 'application/json' } });
    expect(json.headers.get('content-type')).toContain('application/json');
    expect(await json.json()).toMatchObject({ issuingCA: ctx.shared.ca.certificatePem, trustedCAs: [ctx.shared.ca.certificatePem] });
    const odd = await ctx.h.call('GET', '/v1/ca', { headers: { accept: 'image/png' } });
    expect(odd.status).toBe(406);
  });
});

describe('operations endpoints', () => {
  it('/healthz is 200 and /readyz reports each check', async () => {
    expect((await ctx.h.call('GET', '/healthz')).status).toBe(200);
    const ready = await ctx.h.call('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { redis: 'ok' } });
  });

  it('/readyz is 503 naming the failing check', async () => {
    await ctx.restart({
      readiness: { redis: async () => undefined, 'ca-service': async () => Promise.reject(new Error('no live ca-service heartbeat')) },
    });
    const res = await ctx.h.call('GET', '/readyz');
    expect(res.status).toBe(503);
    const body = (await problemOf(res)) as unknown as { code: string; checks: Record<string, string> };
    expect(body.code).toBe('NOT_READY');
    expect(body.checks).toEqual({ redis: 'ok', 'ca-service': 'no live ca-service heartbeat' });
  });

  it('/metrics counts issuances by outcome and exports queue depth, inventory size and root expiry', async () => {
    await issue('m1.bookstore.cluster.local');
    await ctx.h.call('POST', '/v1/certificates', { token: TOKENS.bookstore, body: { commonName: 'bad name' } });
    await ctx.h.inventory.setTrustBundle({ issuingCaPem: ctx.shared.ca.certificatePem, trustedCasPem: [ctx.shared.ca.certificatePem], rootNotAfter: ctx.shared.ca.issuer.notAfter });
    ctx.h.issueClient.depth = 7;
    const res = await ctx.h.call('GET', '/metrics');
    const text = await res.text();
    expect(text).toContain('fsm_certs_gateway_issuance_total{outcome="issued"} 1');
    expect(text).toContain('fsm_certs_gateway_issuance_total{outcome="client_error"} 1');
    expect(text).toMatch(/fsm_certs_gateway_issuance_duration_seconds_count\{outcome="issued"\} 1/);
    expect(text).toContain('fsm_certs_issue_queue_depth 7');
    expect(text).toContain('fsm_certs_inventory_certificates 1');
    expect(text).toContain(`fsm_certs_root_ca_not_after_timestamp_seconds ${Math.floor(ctx.shared.ca.issuer.notAfter.getTime() / 1000)}`);
  });
});
