// The audit trail when a ca-service is killed -9 between storing certificates (and, with them, the
// audit records of the requests they answer) and finishing its job: the job is taken over and
// answered again, and every answered request still has exactly one record, never two.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog, createRedisConnection } from '@fsm-certs/queue';
import { startHarness, type Harness } from './harness.js';
import { killCaServiceMidBatch } from './kill-mid-batch.js';

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
    // EC names first, RSA ones last (see killCaServiceMidBatch).
    const names = Array.from({ length: 36 }, (_, i) => `svc-${i}.audit-kill.cluster.local`);
    const answered = await killCaServiceMidBatch(h, redis, names, (commonName, i) => issue(commonName, i < 32 ? 'ecdsa-p256' : 'rsa-2048', i));

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
