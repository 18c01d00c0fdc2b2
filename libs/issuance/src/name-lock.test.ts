// Per-name mutual exclusion across instances with separate connections (as replicas have),
// and recovery from a holder that died without releasing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IssuanceError } from './errors.js';
import { NameLock } from './name-lock.js';
import { PREFIX, startTestEnv, type TestEnv } from './test-support.test-helpers.js';

describe('NameLock', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await startTestEnv();
  });
  afterAll(async () => {
    await env?.close();
  });

  it('never lets two instances hold the same name at once, but lets different names run together', async () => {
    const a = new NameLock(env.connect(), { prefix: PREFIX });
    const b = new NameLock(env.connect(), { prefix: PREFIX });
    let inside = 0;
    let peak = 0;
    const critical = async (): Promise<void> => {
      inside += 1;
      peak = Math.max(peak, inside);
      await new Promise((r) => setTimeout(r, 15));
      inside -= 1;
    };
    await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? a : b).withLock('same.local', critical)));
    expect(peak).toBe(1);

    let together = 0;
    let both = 0;
    await Promise.all(
      ['x.local', 'y.local'].map((name, i) =>
        (i === 0 ? a : b).withLock(name, async () => {
          together += 1;
          await new Promise((r) => setTimeout(r, 30));
          both = Math.max(both, together);
          together -= 1;
        }),
      ),
    );
    expect(both).toBe(2);
  });

  it('frees a name held by a crashed holder once its TTL runs out, and gives up with NAME_BUSY before that', async () => {
    const redis = env.connect();
    // A holder that died: the key exists with a TTL and nobody will delete it.
    await redis.set(`${PREFIX}:issuance:lock:dead.local`, 'dead-holder', 'PX', 600);
    const impatient = new NameLock(env.connect(), { prefix: PREFIX, waitMs: 100 });
    await expect(impatient.withLock('dead.local', async () => 'never')).rejects.toSatisfy(
      (e) => e instanceof IssuanceError && e.code === 'NAME_BUSY' && e.retryable,
    );
    const patient = new NameLock(env.connect(), { prefix: PREFIX, waitMs: 5_000 });
    const started = Date.now();
    await expect(patient.withLock('dead.local', async () => 'ran')).resolves.toBe('ran');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('keeps a lock alive while its holder works longer than the TTL', async () => {
    const holder = new NameLock(env.connect(), { prefix: PREFIX, ttlMs: 200 });
    const other = new NameLock(env.connect(), { prefix: PREFIX, ttlMs: 200, waitMs: 5_000 });
    const order: string[] = [];
    const long = holder.withLock('slow.local', async () => {
      order.push('holder-start');
      await new Promise((r) => setTimeout(r, 600));
      order.push('holder-end');
    });
    await new Promise((r) => setTimeout(r, 20));
    await other.withLock('slow.local', async () => order.push('other'));
    await long;
    expect(order).toEqual(['holder-start', 'holder-end', 'other']);
  });
});
