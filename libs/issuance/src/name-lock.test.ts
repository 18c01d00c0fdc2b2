// Per-name mutual exclusion across instances with separate connections (as replicas have),
// and recovery from a holder that died without releasing. Nothing here waits for a period of
// time: each step waits for what Redis saw (a refused SET, a key's TTL) or for the code under test.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@fsm-certs/testing';
import { IssuanceError } from './errors.js';
import { NameLock } from './name-lock.js';
import { PREFIX, startTestEnv, type TestEnv } from './test-support.test-helpers.js';

const lockKey = (name: string): string => `${PREFIX}:issuance:lock:${name}`;

/** How many SET commands this Redis has executed (each lock attempt is one, refused or not). */
async function setCalls(redis: Redis): Promise<number> {
  const stats = await redis.info('commandstats');
  return Number(/^cmdstat_set:calls=(\d+)/m.exec(stats)?.[1] ?? '0');
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const isNameBusy = (e: unknown): boolean => e instanceof IssuanceError && e.code === 'NAME_BUSY' && e.retryable;

describe('NameLock', () => {
  let env: TestEnv;
  let redis: Redis;
  beforeAll(async () => {
    env = await startTestEnv();
    redis = env.connect();
  });
  afterAll(async () => {
    await env?.close();
  });

  it('never lets two instances hold the same name at once: the second gets it only after the first released it', async () => {
    const a = new NameLock(env.connect(), { prefix: PREFIX });
    const b = new NameLock(env.connect(), { prefix: PREFIX });
    const order: string[] = [];
    let second: Promise<unknown> = Promise.resolve();
    await a.withLock('same.local', async () => {
      order.push('a holds');
      const before = await setCalls(redis);
      second = b.withLock('same.local', async () => order.push('b holds'));
      // Hold on until Redis has refused b twice (or b got in, which the order below reports).
      await eventually(async () => ((await setCalls(redis)) >= before + 2 || order.includes('b holds') ? true : undefined), 10_000, 'b to try the lock');
      order.push('a releases');
    });
    await second;
    expect(order).toEqual(['a holds', 'a releases', 'b holds']);
  });

  it('lets different names be held at once', async () => {
    const a = new NameLock(env.connect(), { prefix: PREFIX, waitMs: 5_000 });
    const b = new NameLock(env.connect(), { prefix: PREFIX, waitMs: 5_000 });
    const bothInside = deferred();
    let inside = 0;
    const holdUntilBoth = async (): Promise<void> => {
      inside += 1;
      if (inside === 2) bothInside.resolve();
      await bothInside.promise;
    };
    // Were the names one lock, the second would give up with NAME_BUSY while the first waits.
    await Promise.all([a.withLock('x.local', holdUntilBoth), b.withLock('y.local', holdUntilBoth)]);
    expect(inside).toBe(2);
  });

  it('gives up with NAME_BUSY on a name a crashed holder left locked, and frees it once its TTL runs out', async () => {
    // A holder that died: the key exists with a TTL and nobody will delete it.
    await redis.set(lockKey('dead.local'), 'dead-holder', 'PX', 60_000);
    const impatient = new NameLock(env.connect(), { prefix: PREFIX, waitMs: 100 });
    await expect(impatient.withLock('dead.local', async () => 'never')).rejects.toSatisfy(isNameBusy);
    // The dead holder's TTL nearly ran out.
    await redis.pexpire(lockKey('dead.local'), 200);
    const patient = new NameLock(env.connect(), { prefix: PREFIX, waitMs: 30_000 });
    await expect(patient.withLock('dead.local', async () => 'ran')).resolves.toBe('ran');
  });

  it('keeps a lock alive while its holder works longer than the TTL, and stops renewing once released', async () => {
    let renew: () => Promise<boolean> = async () => false;
    let renewEveryMs = 0;
    let renewing = false;
    const holder = new NameLock(env.connect(), {
      prefix: PREFIX,
      ttlMs: 30_000,
      renewal: (everyMs, fn) => {
        renewEveryMs = everyMs;
        renew = fn;
        renewing = true;
        return () => (renewing = false);
      },
    });
    const entered = deferred();
    const finish = deferred();
    const working = holder.withLock('slow.local', async () => {
      entered.resolve();
      await finish.promise;
    });
    await entered.promise;
    expect(renewing).toBe(true);
    expect(renewEveryMs).toBe(10_000); // a third of the TTL: two renewals may fail before it lapses

    // Most of the TTL went by in work; a renewal gives the whole TTL back.
    await redis.pexpire(lockKey('slow.local'), 10_000);
    await expect(renew()).resolves.toBe(true);
    expect(await redis.pttl(lockKey('slow.local'))).toBeGreaterThan(10_000);
    const other = new NameLock(env.connect(), { prefix: PREFIX, waitMs: 100 });
    await expect(other.withLock('slow.local', async () => 'never')).rejects.toSatisfy(isNameBusy);

    finish.resolve();
    await working;
    expect(renewing).toBe(false);
    expect(await redis.exists(lockKey('slow.local'))).toBe(0);
    // A late renewal never extends a lock that is someone else's by now.
    await other.withLock('slow.local', async () => {
      await expect(renew()).resolves.toBe(false);
    });
  });
});
