// GET /v1/events at scale: one Redis reader per gateway however many subscribers, and caps per
// caller (429) and per gateway (503) so streams cannot exhaust Redis or the process.
import { describe, expect, it } from 'vitest';
import { eventually } from '@fsm-certs/testing';
import { TOKENS, harnessPerTest, problemOf } from './testing/harness.test-helpers.js';
import { sseReader, type SseMessage } from './testing/sse.test-helpers.js';

const ctx = harnessPerTest();

async function redisClients(): Promise<number> {
  const list = await ctx.shared.redis.client('LIST');
  return String(list).trim().split('\n').length;
}

const subscribed = (ms: SseMessage[]): boolean => ms.some((m) => m.comment === 'subscribed');

async function openStream(token: string): Promise<ReturnType<typeof sseReader>> {
  const res = await ctx.h.call('GET', '/v1/events', { token });
  expect(res.status).toBe(200);
  const sse = sseReader(res);
  await sse.until(subscribed);
  return sse;
}

describe('GET /v1/events subscribers', () => {
  it('share one Redis reader: 30 streams on one token add at most one Redis client, and each gets every event', async () => {
    await ctx.restart({ options: { sse: { maxStreamsPerCaller: 50, maxStreams: 100 } } });
    const before = await redisClients();
    const streams = [];
    for (let i = 0; i < 30; i++) streams.push(await openStream(TOKENS.reader));
    expect((await redisClients()) - before).toBeLessThanOrEqual(1);
    const id = await ctx.h.events.publish({ version: 1, at: new Date().toISOString(), kind: 'released', commonName: 'a.bookstore.cluster.local', serialNumber: '0a' });
    for (const sse of streams) {
      const messages = await sse.until((ms) => ms.some((m) => m.id === id));
      expect(messages.filter((m) => m.id === id)).toHaveLength(1);
    }
    await Promise.all(streams.map((s) => s.close()));
    // The reader goes away with the last subscriber.
    await eventually(async () => ((await redisClients()) <= before ? true : undefined), 10_000, 'the shared reader to go away with its last subscriber', 25);
  });

  it('answer 429 with Retry-After past the per-caller cap and 503 past the gateway cap, and free a place when a stream closes', async () => {
    await ctx.restart({ options: { sse: { maxStreamsPerCaller: 2, maxStreams: 3 } } });
    const a = await openStream(TOKENS.reader);
    await openStream(TOKENS.reader);
    const third = await ctx.h.call('GET', '/v1/events', { token: TOKENS.reader });
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).not.toBeNull();
    expect((await problemOf(third)).code).toBe('RATE_LIMITED');

    await openStream(TOKENS.bookstore);
    const full = await ctx.h.call('GET', '/v1/events', { token: TOKENS.admin });
    expect(full.status).toBe(503);
    expect(full.headers.get('retry-after')).not.toBeNull();

    await a.close();
    const reopened = await eventually(
      async () => {
        const res = await ctx.h.call('GET', '/v1/events', { token: TOKENS.reader });
        if (res.status === 200) return res;
        await res.body?.cancel();
        return undefined;
      },
      10_000,
      'a place for the reader token once one of its streams closed',
      25,
    );
    await reopened.body?.cancel();
  });
});
