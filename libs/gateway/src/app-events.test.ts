// GET /v1/events: Server-Sent Events from the Redis stream, with Last-Event-ID resume and a
// reset when the events a client asks for were trimmed.
import { describe, expect, it } from 'vitest';
import { EventStream, type CertEvent } from '@fsm-certs/queue';
import { TOKENS, harnessPerTest, problemOf } from './testing/harness.test-helpers.js';
import { readSse, sseReader, type SseMessage } from './testing/sse.test-helpers.js';

const ctx = harnessPerTest();

const subscribed = (ms: SseMessage[]): boolean => ms.some((m) => m.comment === 'subscribed');

function issued(commonName: string, serial: string): CertEvent {
  return { version: 1, at: new Date().toISOString(), kind: 'issued', commonName, serialNumber: serial, notAfter: new Date(Date.now() + 3600_000).toISOString() };
}

const withData = (ms: SseMessage[]): SseMessage[] => ms.filter((m) => m.data !== undefined);

describe('GET /v1/events', () => {
  it('streams new events with the stream id as SSE id and the kind as event name', async () => {
    const res = await ctx.h.call('GET', '/v1/events', { token: TOKENS.reader });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const sse = sseReader(res);
    // The gateway says when its subscription is in place: what is published after that arrives.
    expect((await sse.until(subscribed)).filter((m) => m.comment === 'subscribed')).toHaveLength(1);
    const id1 = await ctx.h.events.publish(issued('a.bookstore.cluster.local', '0a'));
    const id2 = await ctx.h.events.publish(issued('b.bookstore.cluster.local', '0b'));
    const events = withData(await sse.until((ms) => withData(ms).length >= 2));
    await sse.close();
    expect(events.map((e) => e.id)).toEqual([id1, id2]);
    expect(events.map((e) => e.event)).toEqual(['issued', 'issued']);
    expect(JSON.parse(events[0]?.data ?? '{}')).toMatchObject({ kind: 'issued', commonName: 'a.bookstore.cluster.local', serialNumber: '0a' });
  });

  it('resumes after Last-Event-ID, delivering exactly the events published since', async () => {
    const first = await ctx.h.events.publish(issued('one.bookstore.cluster.local', '01'));
    await ctx.h.events.publish(issued('two.bookstore.cluster.local', '02'));
    await ctx.h.events.publish(issued('three.bookstore.cluster.local', '03'));
    const res = await ctx.h.call('GET', '/v1/events', { token: TOKENS.reader, headers: { 'last-event-id': first } });
    const events = withData(await readSse(res, (ms) => withData(ms).length >= 2));
    expect(events.map((e) => JSON.parse(e.data ?? '{}').commonName)).toEqual(['two.bookstore.cluster.local', 'three.bookstore.cluster.local']);
  });

  it('tells a client resuming after trimmed events with `event: reset` before the oldest kept event, then resumes from it', async () => {
    // The same stream, written by a publisher that keeps only ~10 events.
    const trimming = new EventStream(ctx.shared.redis, { prefix: ctx.h.prefix, maxLength: 10 });
    const ids: string[] = [];
    for (let i = 0; i < 300; i++) ids.push(await trimming.publish(issued(`t${i}.bookstore.cluster.local`, (i + 1).toString(16))));
    const oldest = await ctx.h.events.oldestId();
    expect(ids.indexOf(oldest ?? '')).toBeGreaterThan(1);

    const res = await ctx.h.call('GET', '/v1/events', { token: TOKENS.reader, headers: { 'last-event-id': ids[0] ?? '' } });
    const messages = (await readSse(res, (ms) => withData(ms).length >= 3)).filter((m) => m.data !== undefined || m.comment === 'subscribed');
    expect(messages[0]).toEqual({ comment: 'subscribed' });
    // No id: the client's Last-Event-ID stays the one it sent until a real event replaces it.
    expect(messages[1]).toEqual({ event: 'reset', data: JSON.stringify({ reason: 'trimmed', lastEventId: ids[0], oldestId: oldest }) });
    expect(messages.slice(2, 4).map((m) => m.id)).toEqual([oldest, ids[ids.indexOf(oldest ?? '') + 1]]);
    expect(messages.filter((m) => m.event === 'reset')).toHaveLength(1);
  });

  it('sends no reset to a client resuming from an event the stream still holds, nor to one asking for everything with 0', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await ctx.h.events.publish(issued(`k${i}.bookstore.cluster.local`, (i + 1).toString(16))));
    for (const [from, expected] of [[ids[0], ids.slice(1)], ['0', ids]] as const) {
      const res = await ctx.h.call('GET', '/v1/events', { token: TOKENS.reader, headers: { 'last-event-id': from ?? '' } });
      const messages = withData(await readSse(res, (ms) => withData(ms).length >= expected.length)).slice(0, expected.length);
      expect(messages.map((m) => m.event)).toEqual(expected.map(() => 'issued'));
      expect(messages.map((m) => m.id)).toEqual(expected);
    }
  });

  it('sends keep-alive comments while idle', async () => {
    const res = await ctx.h.call('GET', '/v1/events', { token: TOKENS.reader });
    const messages = await readSse(res, (ms) => ms.some((m) => m.comment === 'keep-alive'));
    expect(messages.some((m) => m.comment === 'keep-alive')).toBe(true);
  });

  it('refuses a malformed Last-Event-ID with 400 and a missing token with 401', async () => {
    const bad = await ctx.h.call('GET', '/v1/events', { token: TOKENS.reader, headers: { 'last-event-id': 'yesterday' } });
    expect(bad.status).toBe(400);
    expect((await problemOf(bad)).code).toBe('INVALID_QUERY');
    expect((await ctx.h.call('GET', '/v1/events')).status).toBe(401);
  });
});
