// What operators fear: a ca-service killed mid-batch, a Redis restart. Nothing may be lost and
// nothing issued twice. Each step waits for what the system reports (an announcement, an
// answer), never for a period of time.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayRequestError, type CertificateResponse, type GatewayClient, type GatewayEvent, type IssueCertificateInput } from '@fsm-certs/client';
import { EventStream, createRedisConnection } from '@fsm-certs/queue';
import { startHarness, type Harness } from './harness.js';
import { killCaServiceMidBatch, lastEventId } from './kill-mid-batch.js';
import { eventually, opensslVerify } from '@fsm-certs/testing';

describe('the system under failures', () => {
  let h: Harness;
  let rootPem: string;
  let redis: Redis;

  beforeAll(async () => {
    h = await startHarness();
    rootPem = await h.client.trustBundlePem();
    redis = createRedisConnection(h.stack.redisUrl, { role: 'worker' });
    redis.on('error', () => undefined);
  }, 120_000);
  afterAll(async () => {
    redis?.disconnect();
    await h?.close();
  });

  it('loses no request and issues no duplicate when ca-service is killed -9 during a batch', async () => {
    // EC names first, RSA ones last (see killCaServiceMidBatch).
    const names = Array.from({ length: 36 }, (_, i) => `svc-${i}.crash.cluster.local`);
    const results: CertificateResponse[] = await killCaServiceMidBatch(h, redis, names, (commonName, i) =>
      issueAnswered(h.client, { commonName, keyAlgorithm: i < 32 ? 'ecdsa-p256' : 'rsa-2048' }),
    );

    expect(results.map((r) => r.commonName).sort()).toEqual([...names].sort());
    for (const cert of results) expect(opensslVerify(cert.certificate, rootPem, { chainPem: cert.chain }).ok).toBe(true);
    // Exactly one certificate per name: what each caller got is what the inventory holds...
    for (const cert of results) expect((await h.client.get(cert.commonName)).serialNumber).toBe(cert.serialNumber);
    // ...and the announcements carry one issuance per name.
    const issued = (await announcementsUpTo(h.client, await lastEventId(redis, new EventStream(redis)))).filter((e) => e.type === 'issued');
    for (const name of names) expect(issued.filter((e) => nameOf(e) === name)).toHaveLength(1);
  }, 120_000);

  it('keeps every app working across a Redis restart without restarting them', async () => {
    const redis = h.stack.redis;
    if (redis === undefined) throw new Error('this suite needs the private Redis of the stack');
    const before = await h.client.issue({ commonName: 'before-restart.cluster.local' });
    await redis.restart();
    const after = await eventually(() => h.client.issue({ commonName: 'after-restart.cluster.local' }).catch(() => undefined), 20_000, 'an issue after the restart', 500);
    expect(opensslVerify(after.certificate, rootPem, { chainPem: after.chain }).ok).toBe(true);
    expect((await h.client.get('before-restart.cluster.local')).serialNumber).toBe(before.serialNumber);
    for (const app of h.stack.apps) expect(app.running).toBe(true);
  }, 60_000);
});

function nameOf(event: GatewayEvent): string | undefined {
  const data = event.data;
  return typeof data === 'object' && data !== null && 'commonName' in data && typeof data.commonName === 'string' ? data.commonName : undefined;
}

/**
 * Issues, asking again when the gateway gave up waiting (504 ISSUANCE_TIMEOUT, "retry later"), as
 * a client does: the ca-service's recovery may take longer than the gateway's issue timeout.
 */
async function issueAnswered(client: GatewayClient, input: IssueCertificateInput): Promise<CertificateResponse> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await client.issue(input);
    } catch (error) {
      if (!(error instanceof GatewayRequestError) || error.status !== 504 || attempt >= 5) throw error;
    }
  }
}


/** Every announcement the gateway's SSE stream replays, up to and including `lastId`. */
async function announcementsUpTo(client: GatewayClient, lastId: string): Promise<GatewayEvent[]> {
  const abort = new AbortController();
  const events: GatewayEvent[] = [];
  try {
    for await (const event of client.events({ lastEventId: '0', signal: abort.signal })) {
      events.push(event);
      if (event.id === lastId) break;
    }
  } finally {
    abort.abort();
  }
  return events;
}
