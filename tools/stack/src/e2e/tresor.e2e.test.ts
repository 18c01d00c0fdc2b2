// The running system with Tresor: real processes, a real Redis, checked by openssl.
import { generateKeyPairSync, createPrivateKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayRequestError, type GatewayEvent } from '@fsm-certs/client';
import { createCsr, importPrivateKeyPem } from '@fsm-certs/x509';
import { QueueEvents } from 'bullmq';
import { ROTATION_SWEEP_QUEUE } from '@fsm-certs/issuance';
import { DEFAULT_PREFIX, EventStream, createRedisConnection } from '@fsm-certs/queue';
import { eventually, startHarness, type Harness } from './harness.js';
import { opensslVerify, opensslX509 } from '@fsm-certs/testing';

describe('the system with the Tresor provider', () => {
  let h: Harness;
  let rootPem: string;

  beforeAll(async () => {
    h = await startHarness({ rotationWorkers: 2 });
    rootPem = await h.client.trustBundlePem();
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  it('serves a trust bundle that openssl reads as the Flomesh root', () => {
    expect(opensslX509(rootPem, ['-subject'])).toMatch(/fsm-ca\.flomesh\.io/);
  });

  it('issues a server-key certificate whose chain openssl verifies and whose key matches', async () => {
    const cert = await h.client.issue({ commonName: 'bookstore-v1.bookstore.cluster.local' });
    expect(cert.privateKey).toBeDefined();
    expect(opensslVerify(cert.certificate, rootPem, { chainPem: cert.chain }).ok).toBe(true);
    const key = importPrivateKeyPem(cert.privateKey ?? '');
    const certPublic = opensslX509(cert.certificate, ['-pubkey']);
    expect(createPrivateKey(cert.privateKey ?? '').asymmetricKeyType).toBe('ec');
    expect(key.publicKey.export({ type: 'spki', format: 'pem' }).toString().trim()).toBe(certPublic.trim());
  });

  it('issues from a CSR without ever returning a key, taking the identity from the request', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const csr = createCsr({
      commonName: 'not-what-the-gateway-uses.example',
      keyPair: { algorithm: 'ecdsa-p256', privateKey, publicKey },
    });
    const cert = await h.client.issue({ commonName: 'bookbuyer.bookbuyer.cluster.local', csr });
    expect(cert.privateKey).toBeUndefined();
    expect(opensslVerify(cert.certificate, rootPem, { chainPem: cert.chain }).ok).toBe(true);
    expect(opensslX509(cert.certificate, ['-subject'])).toMatch(/bookbuyer\.bookbuyer\.cluster\.local/);
    expect(opensslX509(cert.certificate, ['-pubkey']).trim()).toBe(publicKey.export({ type: 'spki', format: 'pem' }).toString().trim());
  });

  it('answers with exactly the DNS SANs the certificate carries, the common name included (read by openssl)', async () => {
    const body = { commonName: 'productpage.bookstore.cluster.local', sans: ['productpage.bookstore.svc', 'productpage', '10.0.0.9'] };
    const issued = await rawCall(h, 'POST', '/v1/certificates', body);
    expect(issued.status).toBe(201);
    const answer = (await issued.json()) as { certificate: string; dnsNames: string[] };
    const carried = [...opensslX509(answer.certificate, ['-ext', 'subjectAltName']).matchAll(/DNS:([^,\s]+)/g)].map((m) => m[1]);
    expect(carried).toEqual(['productpage.bookstore.cluster.local', 'productpage.bookstore.svc', 'productpage']);
    expect(answer.dnsNames).toEqual(carried);
    const stored = (await (await rawCall(h, 'GET', `/v1/certificates/${body.commonName}`)).json()) as { dnsNames: string[] };
    expect(stored.dnsNames).toEqual(carried);
  });

  it('caps a validity past the root\'s expiry at the root\'s notAfter, and says so in warnings', async () => {
    const rootNotAfter = new Date(opensslX509(rootPem, ['-enddate']).trim().replace('notAfter=', '')).toISOString();
    const capped = await h.client.issue({ commonName: 'longlived.bookstore.cluster.local', validity: '175200h' }); // 20 years
    expect(capped.notAfter).toBe(rootNotAfter);
    expect(new Date(opensslX509(capped.certificate, ['-enddate']).trim().replace('notAfter=', '')).toISOString()).toBe(rootNotAfter);
    expect(capped.warnings).toEqual([expect.stringMatching(/capped at the root's expiry/)]);
    const normal = await h.client.issue({ commonName: 'shortlived.bookstore.cluster.local', validity: '1h' });
    expect(normal.warnings).toBeUndefined();
  });

  it('answers GET from the inventory with the certificate it issued', async () => {
    const issued = await h.client.issue({ commonName: 'reviews.bookstore.cluster.local', validity: '1h' });
    const got = await h.client.get('reviews.bookstore.cluster.local');
    expect(got.serialNumber).toBe(issued.serialNumber);
    expect(got.privateKey).toBeUndefined();
  });

  it('rejects bad input with problem codes, and unknown names with 404', async () => {
    const bad = await h.client.issue({ commonName: 'bad name!' }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(GatewayRequestError);
    expect((bad as GatewayRequestError).status).toBe(400);
    const badDuration = await h.client.issue({ commonName: 'ok.example', validity: 'forever' }).catch((e: unknown) => e);
    expect((badDuration as GatewayRequestError).status).toBe(400);
    const missing = await h.client.get('nobody.nowhere.cluster.local').catch((e: unknown) => e);
    expect((missing as GatewayRequestError).status).toBe(404);
  });

  it('announces issued and rotated over SSE and resumes after a reconnect', async () => {
    const name = 'ratings.bookstore.cluster.local';
    const abort = new AbortController();
    const seen: GatewayEvent[] = [];
    let subscribed!: () => void;
    const ready = new Promise<void>((resolve) => (subscribed = resolve));
    const reader = (async () => {
      for await (const event of h.client.events({ signal: abort.signal, onSubscribed: () => subscribed() })) {
        seen.push(event);
        if (seen.some((e) => e.type === 'issued' && hasName(e, name))) break;
      }
    })();
    // The gateway's `: subscribed`: what is issued from now on is announced on this stream.
    await Promise.race([ready, reader]);
    const first = await h.client.issue({ commonName: name });
    // The reader stops at the issued event itself; the test's own timeout bounds a stream that never sends it.
    await reader;
    abort.abort();
    const issuedEvent = seen.find((e) => e.type === 'issued' && hasName(e, name));
    expect(issuedEvent).toBeDefined();

    // Disconnected: a rotation happens; the resumed stream must deliver it.
    const rotated = await h.client.rotate(name);
    expect(rotated.serialNumber).not.toBe(first.serialNumber);
    const resumed = new AbortController();
    const missed: GatewayEvent[] = [];
    for await (const event of h.client.events({ lastEventId: issuedEvent?.id ?? '0', signal: resumed.signal })) {
      missed.push(event);
      if (event.type === 'rotated' && hasName(event, name)) break;
    }
    resumed.abort();
    expect(missed.some((e) => e.id === issuedEvent?.id)).toBe(false);
    expect(missed.find((e) => e.type === 'rotated' && hasName(e, name))).toBeDefined();
  });

  it('rotates a certificate inside its renewal window exactly once with two rotation-workers', async () => {
    const name = 'details.bookstore.cluster.local';
    const before = await h.client.issue({ commonName: name, validity: '1h' });
    await pullIntoRenewalWindow(h, name);
    const after = await eventually(
      async () => {
        const current = await h.client.get(name);
        return current.serialNumber !== before.serialNumber ? current : undefined;
      },
      30_000,
      'the rotation-worker to rotate the certificate',
    );
    expect(opensslVerify(after.certificate, rootPem, { chainPem: after.chain }).ok).toBe(true);
    // Let two more sweeps (by either replica) finish, a chance to misbehave, then count rotations.
    await sweepsFinished(h, 2);
    const final = await h.client.get(name);
    expect(final.serialNumber).toBe(after.serialNumber);
    const rotations = await countEvents(h, 'rotated', name);
    expect(rotations).toBe(1);
  });
});

/** The HTTP API as any client sees it, without our client's parsing in between. */
function rawCall(h: Harness, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${h.stack.gatewayUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${h.stack.adminToken}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

function hasName(event: GatewayEvent, name: string): boolean {
  const data = event.data;
  return typeof data === 'object' && data !== null && 'commonName' in data && data.commonName === name;
}

/** Announcements of `type` for `name`, from the first kept one up to the newest (read from Redis first). */
async function countEvents(h: Harness, type: string, name: string): Promise<number> {
  const redis = createRedisConnection(h.stack.redisUrl, { role: 'worker' });
  const [newest] = await redis.xrevrange(new EventStream(redis).key, '+', '-', 'COUNT', 1).finally(() => redis.disconnect());
  const abort = new AbortController();
  let count = 0;
  try {
    for await (const event of h.client.events({ lastEventId: '0', signal: abort.signal })) {
      if (event.type === type && hasName(event, name)) count += 1;
      if (event.id === newest?.[0]) break;
    }
  } finally {
    abort.abort();
  }
  return count;
}

/** Resolves once `count` sweeps of the rotation-workers have finished from now on. */
async function sweepsFinished(h: Harness, count: number): Promise<void> {
  const connection = createRedisConnection(h.stack.redisUrl, { role: 'worker' });
  connection.on('error', () => undefined);
  const sweeps = new QueueEvents(ROTATION_SWEEP_QUEUE, { connection, prefix: DEFAULT_PREFIX });
  try {
    await sweeps.waitUntilReady();
    await new Promise<void>((resolve) => {
      let left = count;
      sweeps.on('completed', () => {
        left -= 1;
        if (left === 0) resolve();
      });
    });
  } finally {
    await sweeps.close();
    connection.disconnect();
  }
}

async function pullIntoRenewalWindow(h: Harness, name: string): Promise<void> {
  const { pullRenewAtToNow } = await import('./inventory-time.js');
  await pullRenewAtToNow(h.stack.redisUrl, name);
}
