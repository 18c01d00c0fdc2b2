// A ca-service killed -9 in the middle of a batch, as the resilience and audit e2e suites need it:
// some of the batch's certificates stored, the rest not, then the process restarted.
import type { Redis } from 'ioredis';
import { expect } from 'vitest';
import { EventStream, Inventory, type CertEvent } from '@fsm-certs/queue';
import type { Harness } from './harness.js';

/** The id of the newest announcement in the stream ('0' when it is empty). */
export async function lastEventId(redis: Redis, stream: EventStream): Promise<string> {
  const [last] = await redis.xrevrange(stream.key, '+', '-', 'COUNT', 1);
  return last?.[0] ?? '0';
}

/** The first announcement after `afterId` that `matches` accepts, read from the stream itself. */
export async function firstEvent(stream: EventStream, afterId: string, matches: (event: CertEvent) => boolean): Promise<CertEvent> {
  const stop = new AbortController();
  try {
    for await (const { event } of stream.subscribe({ fromId: afterId, signal: stop.signal })) if (matches(event)) return event;
    throw new Error('the event stream ended');
  } finally {
    stop.abort();
  }
}

/**
 * Asks for every name (through `request`, which must keep asking until answered), freezes the
 * ca-service as soon as the first of them is announced, checks that it had stored some but not
 * all, kills it -9, restarts it, and resolves with every answer. Ask for the slow names (RSA) last:
 * the first certificates are stored at once, while the last wait for keys that take far longer to
 * make than this reacts.
 */
export async function killCaServiceMidBatch<T>(h: Harness, redis: Redis, names: readonly string[], request: (commonName: string, index: number) => Promise<T>): Promise<T[]> {
  const stream = new EventStream(redis);
  const from = await lastEventId(redis, stream);
  const pending = names.map((commonName, i) => request(commonName, i));
  await firstEvent(stream, from, (e) => e.kind === 'issued' && names.includes(e.commonName));
  const ca = h.stack.app('ca-service');
  // Frozen on the spot, so what it had stored is what it will have stored when killed.
  ca.signal('SIGSTOP');
  const inventory = new Inventory(redis);
  const stored = (await Promise.all(names.map((n) => inventory.get(n)))).filter((r) => r !== undefined).length;
  // The kill must land mid-batch (between commits and the job's end) for a test to mean anything.
  expect(stored).toBeGreaterThan(0);
  expect(stored).toBeLessThan(names.length);
  await ca.kill();
  ca.restart();
  return Promise.all(pending);
}
