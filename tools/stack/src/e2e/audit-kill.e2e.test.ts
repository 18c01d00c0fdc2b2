// The audit trail when a ca-service is killed -9 between storing certificates (and, with them, the
// audit records of the requests they answer) and finishing its job: the job is taken over and
// answered again, and every answered request still has exactly one record, never two.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog, EventStream, Inventory, createRedisConnection, type CertEvent } from '@fsm-certs/queue';
import { startHarness, type Harness } from './harness.js';

interface Answered {
  readonly requestId: string;
  readonly commonName: string;
  readonly serialNumber: string;
}

describe('the audit trail when a ca-service is killed -9 mid-batch', () => {
  let h: Harness;
  let redis: Redis;

  beforeAll(async () => {
    h = await startHarness({ rotationWorkers: 0 });
    redis = createRedisConnection(h.stack.redisUrl, { role: 'worker' });
    redis.on('error', () => undefined);
  }, 120_000);
  afterAll(async () => {
    redis?.disconnect();
    await h?.close();
  });

  /** POST until answered (a 504 while the ca-service is down is retried with a new request id). */
  async function issue(commonName: string, keyAlgorithm: string, index: number): Promise<Answered> {
    for (let attempt = 0; ; attempt += 1) {
      const requestId = `audit-kill-${index}-${attempt}`;
      const res = await fetch(`${h.stack.gatewayUrl}/v1/certificates`, {
        method: 'POST',
        headers: { authorization: `Bearer ${h.stack.adminToken}`, 'content-type': 'application/json', 'x-request-id': requestId },
        body: JSON.stringify({ commonName, keyAlgorithm }),
      });
      const body = (await res.json()) as { serialNumber?: string };
      if (res.status === 201 && body.serialNumber !== undefined) return { requestId, commonName, serialNumber: body.serialNumber };
      if (res.status !== 504 || attempt >= 5) throw new Error(`${commonName}: ${res.status} ${JSON.stringify(body)}`);
    }
  }

  it('keeps one record per answered request, with the certificate it got', async () => {
    // EC names first, RSA ones last: the first certificates are stored at once, while the last
    // wait for RSA keys that take far longer to make than this test takes to react.
    const names = Array.from({ length: 36 }, (_, i) => `svc-${i}.audit-kill.cluster.local`);
    const stream = new EventStream(redis);
    const [last] = await redis.xrevrange(stream.key, '+', '-', 'COUNT', 1);
    const pending = names.map((commonName, i) => issue(commonName, i < 32 ? 'ecdsa-p256' : 'rsa-2048', i));
    await firstEvent(stream, last?.[0] ?? '0', (e) => e.kind === 'issued' && names.includes(e.commonName));
    const ca = h.stack.app('ca-service');
    ca.signal('SIGSTOP');
    const inventory = new Inventory(redis);
    const stored = (await Promise.all(names.map((n) => inventory.get(n)))).filter((r) => r !== undefined).length;
    // The kill must land between commits and the job's end for this test to mean anything.
    expect(stored).toBeGreaterThan(0);
    expect(stored).toBeLessThan(names.length);
    await ca.kill();
    ca.restart();
    const answered = await Promise.all(pending);

    const trail = new AuditLog(redis, { retentionMs: 24 * 3600_000 });
    const { items } = await trail.query({ limit: 1000 });
    const mine = items.filter((r) => r.requestId?.startsWith('audit-kill-') === true);
    // No request is recorded twice...
    const ids = mine.map((r) => r.requestId);
    expect(new Set(ids).size).toBe(ids.length);
    // ...and every answered one once, with the certificate it was answered with.
    for (const a of answered) {
      const records = mine.filter((r) => r.requestId === a.requestId);
      expect(records, a.requestId).toHaveLength(1);
      expect(records[0]).toMatchObject({ commonName: a.commonName, serialNumber: a.serialNumber, caller: 'admin', status: 201 });
      expect(['issued', 'reused']).toContain(records[0]?.outcome);
    }
  }, 120_000);
});

/** The first announcement after `afterId` that `matches` accepts, read from the stream itself. */
async function firstEvent(stream: EventStream, afterId: string, matches: (event: CertEvent) => boolean): Promise<CertEvent> {
  const stop = new AbortController();
  try {
    for await (const { event } of stream.subscribe({ fromId: afterId, signal: stop.signal })) if (matches(event)) return event;
    throw new Error('the event stream ended');
  } finally {
    stop.abort();
  }
}
