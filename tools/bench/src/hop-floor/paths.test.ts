// The two hops hop-floor-bench measures, against a real redis-server: each answers every job with
// one result per item, to the producer that sent it, so the bench times real round trips.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUuid } from '@fsm-certs/core';
import { DEFAULT_PREFIX, createRedisConnection, startRedisServer, type IssueItem, type IssueJobPayload, type RedisServerHandle } from '@fsm-certs/queue';
import { answer, fillerFor, startConsumer, startProducer, type Consumer, type Producer } from './paths.js';
import { HOP_PATHS } from './summary.js';

function job(items: number): IssueJobPayload {
  const requests = Array.from({ length: items }, (): IssueItem => {
    const commonName = `t-${randomUuid()}.bench.cluster.local`;
    return { requestId: randomUuid(), commonName, dnsNames: [commonName], uris: [], ipAddresses: [], validityMs: 3_600_000, keyAlgorithm: 'ecdsa-p256', reason: 'request' };
  });
  return { version: 1, requests };
}

const requestIds = (value: unknown): unknown => (value as { results: Array<{ requestId: string }> }).results.map((r) => r.requestId);

describe('fillerFor and answer', () => {
  it('answer each item with about the asked bytes of JSON, under its request id', () => {
    const payload = job(3);
    const result = answer(payload.requests, fillerFor(1024));
    expect(result.results.map((r) => r.requestId)).toEqual(payload.requests.map((r) => r.requestId));
    for (const r of result.results) expect(JSON.stringify(r).length).toBe(1024);
  });
});

describe.each(HOP_PATHS)('the %s hop against a real redis-server', (path) => {
  let server: RedisServerHandle;
  let consumer: Consumer;
  const producers: Producer[] = [];
  const errors: unknown[] = [];

  beforeAll(async () => {
    server = await startRedisServer({ appendOnly: true });
    consumer = await startConsumer(path, server.url, fillerFor(200), (error) => errors.push(error));
    producers.push(await startProducer(path, server.url), await startProducer(path, server.url));
  });

  afterAll(async () => {
    for (const p of producers) await p.close();
    await consumer?.close();
    await server?.stop();
  });

  it('answers each producer’s jobs to that producer, one result per item, several jobs in flight', async () => {
    const jobs = producers.flatMap((producer) => [job(1), job(8), job(3)].map((payload) => ({ producer, payload })));
    const answers = await Promise.all(jobs.map(({ producer, payload }) => producer.roundTrip(payload)));
    answers.forEach((value, i) => expect(requestIds(value)).toEqual(jobs[i]?.payload.requests.map((r) => r.requestId)));
    expect(errors).toEqual([]);
  });

  // Only the stream path has a pending list of its own (BullMQ's is its active list); no skipped test for the other.
  if (path === 'stream') it('leaves no request pending once it is answered', async () => {
    await producers[0]?.roundTrip(job(2));
    const redis = createRedisConnection(server.url, { role: 'client' });
    try {
      const pending = (await redis.xpending(`${DEFAULT_PREFIX}:hop:requests`, 'ca-service')) as [number, ...unknown[]];
      expect(pending[0]).toBe(0);
    } finally {
      redis.disconnect();
    }
  });
});
