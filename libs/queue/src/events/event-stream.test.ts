import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { eventually } from '@fsm-certs/testing';
import type { IssuedEvent } from '../contracts/events.js';
import { createRedisConnection } from '../redis/connection.js';
import { startRedisServer, type RedisServerHandle } from '../redis/launcher.js';
import { EventStream, type StreamedEvent } from './event-stream.js';

let server: RedisServerHandle;
let redis: Redis;
let stream: EventStream;

beforeAll(async () => {
  server = await startRedisServer();
  redis = createRedisConnection(server.url, { role: 'client', maxReconnectDelayMs: 100 });
  redis.on('error', () => undefined);
  stream = new EventStream(redis, { prefix: '{ev-test}' });
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});
beforeEach(async () => {
  await redis.del(stream.key);
});

let n = 0;
function issued(): IssuedEvent {
  n += 1;
  return { version: 1, kind: 'issued', at: new Date().toISOString(), commonName: `svc-${n}.ns.cluster.local`, serialNumber: n.toString(16), notAfter: new Date().toISOString() };
}

/** Takes `count` events from an iterator, failing instead of hanging if they do not come. */
async function take(iterator: AsyncIterator<StreamedEvent>, count: number, timeoutMs = 5_000): Promise<StreamedEvent[]> {
  const out: StreamedEvent[] = [];
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`only ${out.length} of ${count} events arrived within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    while (out.length < count) {
      const next = await Promise.race([iterator.next(), guard]);
      if (next.done === true) break;
      out.push(next.value);
    }
  } finally {
    clearTimeout(timer);
  }
  return out;
}

describe('EventStream', () => {
  it('publish returns increasing ids and subscribe("0") replays them in order', async () => {
    const events = [issued(), issued(), issued()];
    const ids: string[] = [];
    for (const e of events) ids.push(await stream.publish(e));
    const controller = new AbortController();
    const got = await take(stream.subscribe({ fromId: '0', signal: controller.signal }), 3);
    controller.abort();
    expect(got.map((g) => g.id)).toEqual(ids);
    expect(got.map((g) => g.event)).toEqual(events);
  });

  it('"$" delivers only events published after subscribing, including one published between reads', async () => {
    await stream.publish(issued());
    const controller = new AbortController();
    const iterator = stream.subscribe({ signal: controller.signal, blockMs: 50 });
    const reads = await xreadCalls();
    const pending = take(iterator, 2);
    // Several blocking reads come back empty before anything is published.
    await eventually(async () => ((await xreadCalls()) >= reads + 3 ? true : undefined), 10_000, 'three empty blocking reads');
    const fresh = [issued(), issued()];
    for (const e of fresh) await stream.publish(e);
    expect((await pending).map((g) => g.event)).toEqual(fresh);
    controller.abort();
  });

  it('resumes after a given id (SSE Last-Event-ID)', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await stream.publish(issued()));
    const controller = new AbortController();
    const got = await take(stream.subscribe({ fromId: ids[2], signal: controller.signal }), 2);
    controller.abort();
    expect(got.map((g) => g.id)).toEqual(ids.slice(3));
  });

  it('ends cleanly when the signal aborts while blocked in XREAD', async () => {
    const controller = new AbortController();
    // Blocked far longer than this test may run: only the abort can end the read.
    const iterator = stream.subscribe({ signal: controller.signal, blockMs: 3_600_000 });
    const next = iterator.next();
    await eventually(async () => ((await readerCommands()).includes('xread') ? true : undefined), 10_000, 'the reader to block in XREAD');
    controller.abort();
    expect(await next).toEqual({ done: true, value: undefined });
  });

  it('closes its dedicated connection when the consumer breaks out of for-await', async () => {
    const clientsBefore = await connectedClients();
    await stream.publish(issued());
    for await (const entry of stream.subscribe({ fromId: '0' })) {
      expect(entry.event.kind).toBe('issued');
      expect(await connectedClients()).toBe(clientsBefore + 1);
      break;
    }
    await eventually(async () => ((await connectedClients()) === clientsBefore ? true : undefined), 10_000, 'the reader connection to close');
  });

  it('skips entries it cannot parse and reports them', async () => {
    await redis.xadd(stream.key, '*', 'event', JSON.stringify({ version: 1, kind: 'from-the-future' }));
    const good = issued();
    await stream.publish(good);
    const invalid: string[] = [];
    const controller = new AbortController();
    const got = await take(stream.subscribe({ fromId: '0', signal: controller.signal, onInvalid: (id) => invalid.push(id) }), 1);
    controller.abort();
    expect(got.map((g) => g.event)).toEqual([good]);
    expect(invalid).toHaveLength(1);
  });

  it('refuses to publish an invalid event or subscribe from a malformed id', async () => {
    await expect(stream.publish({ ...issued(), serialNumber: 'XYZ' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(() => stream.subscribe({ fromId: 'abc' })).toThrow(/fromId/);
  });

  it('stays bounded near maxLength', async () => {
    const small = new EventStream(redis, { prefix: '{ev-small}', maxLength: 100 });
    const pipeline: Promise<string>[] = [];
    for (let i = 0; i < 1_000; i++) pipeline.push(small.publish(issued()));
    const ids = await Promise.all(pipeline);
    const length = await small.length();
    // The oldest retained id tells a resuming client that what came before it was trimmed.
    const oldest = await small.oldestId();
    expect(oldest).not.toBe(ids[0]);
    expect(ids.indexOf(oldest ?? '')).toBe(ids.length - length);
    expect(length).toBeGreaterThanOrEqual(100);
    expect(length).toBeLessThan(300); // MAXLEN ~ trims whole radix-tree nodes
  });

  it('calls onSubscribed once the start is fixed, so an event published right after it is delivered', async () => {
    await stream.publish(issued());
    const controller = new AbortController();
    let subscribed!: () => void;
    const ready = new Promise<void>((resolve) => (subscribed = resolve));
    const iterator = stream.subscribe({ signal: controller.signal, onSubscribed: () => subscribed() });
    const pending = take(iterator, 1);
    await within(ready, 'onSubscribed');
    const fresh = issued();
    await stream.publish(fresh);
    expect((await pending).map((g) => g.event)).toEqual([fresh]);
    controller.abort();
  });

  describe('after the stream was trimmed (MAXLEN)', () => {
    const small = (maxLength = 10): EventStream => new EventStream(redis, { prefix: '{ev-trim}', maxLength });
    beforeEach(async () => {
      await redis.del(small().key);
    });
    /** Publishes n events in one pipeline (XADD MAXLEN ~ trims whole radix-tree nodes, 4 kB or 100 entries). */
    async function publishMany(target: EventStream, n: number): Promise<string[]> {
      return Promise.all(Array.from({ length: n }, () => target.publish(issued())));
    }

    it('a reader resuming from a trimmed id is told, before the oldest kept event, which it then gets', async () => {
      const target = small();
      const ids = await publishMany(target, 500);
      const oldest = await target.oldestId();
      expect(oldest).toBeDefined();
      expect(ids.indexOf(oldest ?? '')).toBeGreaterThan(1);
      expect(await target.gapAfter(ids[0] ?? '')).toEqual({ reason: 'trimmed', lastEventId: ids[0], oldestId: oldest });

      const seen: string[] = [];
      const controller = new AbortController();
      const iterator = target.subscribe({ fromId: ids[0], signal: controller.signal, onGap: (gap) => seen.push(`gap ${gap.lastEventId} ${gap.oldestId}`) });
      for (const { id } of await take(iterator, 3)) seen.push(id);
      controller.abort();
      const at = ids.indexOf(oldest ?? '');
      expect(seen).toEqual([`gap ${ids[0]} ${oldest}`, ...ids.slice(at, at + 3)]);
    });

    it('a reader resuming from an id still kept, or asking for everything with "0", is not told of a gap', async () => {
      const target = small();
      const ids = await publishMany(target, 500);
      const kept = ids[ids.length - 5] ?? '';
      expect(await target.gapAfter(kept)).toBeUndefined();
      expect(await target.gapAfter('0')).toBeUndefined();
      for (const fromId of [kept, '0', '0-0']) {
        const gaps: unknown[] = [];
        const controller = new AbortController();
        const got = await take(target.subscribe({ fromId, signal: controller.signal, onGap: (gap) => gaps.push(gap) }), 4);
        controller.abort();
        expect(got).toHaveLength(4);
        expect(gaps).toEqual([]);
      }
    });

    it('a reader that falls behind past the trim point is told before it goes on', async () => {
      const target = small(100);
      const first = await publishMany(target, 50);
      expect(await target.oldestId()).toBe(first[0]);
      const gaps: Array<{ lastEventId: string; oldestId: string }> = [];
      const controller = new AbortController();
      const iterator = target.subscribe({ fromId: '0', signal: controller.signal, onGap: (gap) => gaps.push(gap) });
      expect((await take(iterator, 50)).map((g) => g.id)).toEqual(first);
      const later = await publishMany(target, 1_000);
      const next = await take(iterator, 1);
      controller.abort();
      expect(gaps).toEqual([{ reason: 'trimmed', lastEventId: first[49], oldestId: next[0]?.id }]);
      expect(later.indexOf(next[0]?.id ?? '')).toBeGreaterThan(0);
    });
  });

  it('survives a Redis restart: reconnects and continues from the last id seen', async () => {
    const controller = new AbortController();
    const errors: unknown[] = [];
    const iterator = stream.subscribe({ fromId: '0', signal: controller.signal, blockMs: 200, onError: (e) => errors.push(e) });
    const before = issued();
    await stream.publish(before);
    expect((await take(iterator, 1)).map((g) => g.event)).toEqual([before]);
    const pending = take(iterator, 2, 15_000);
    await server.restart();
    const after = [issued(), issued()];
    for (const e of after) await stream.publish(e);
    // Only the new events: the one seen before the restart is not delivered twice.
    expect((await pending).map((g) => g.event)).toEqual(after);
    controller.abort();
  });
});

/** XREAD commands this Redis has executed (one per blocking read of a subscriber). */
async function xreadCalls(): Promise<number> {
  return Number(/^cmdstat_xread:calls=(\d+)/m.exec(await redis.info('commandstats'))?.[1] ?? '0');
}

/** The command each subscriber connection is running or ran last (CLIENT LIST `cmd`). */
async function readerCommands(): Promise<string[]> {
  const list = String(await redis.client('LIST')).split('\n');
  return list.filter((line) => line.includes('name=fsm-certs-events')).map((line) => /\bcmd=(\S+)/.exec(line)?.[1] ?? '');
}

/** Awaits a promise, failing instead of hanging when it never settles. */
async function within<T>(promise: Promise<T>, what: string, timeoutMs = 5_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not happen`)), timeoutMs)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function connectedClients(): Promise<number> {
  const list = await redis.client('LIST');
  return String(list).split('\n').filter((line) => line.includes('name=fsm-certs-events')).length;
}
