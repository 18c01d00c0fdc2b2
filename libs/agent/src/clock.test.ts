import { describe, expect, it } from 'vitest';
import { ManualClock, systemAgentClock } from './clock.js';

describe('ManualClock', () => {
  it('wakes a sleeper only once its time has been passed, in any number of steps', async () => {
    const clock = new ManualClock(1_000);
    let woke = false;
    const sleeping = clock.sleep(500, new AbortController().signal).then(() => (woke = true));
    expect(clock.sleepers).toBe(1);
    expect(clock.nextWake).toBe(1_500);
    clock.advance(499);
    await Promise.resolve();
    expect(woke).toBe(false);
    clock.advance(1);
    await sleeping;
    expect(woke).toBe(true);
    expect(clock.sleepers).toBe(0);
  });

  it('never goes backwards', () => {
    const clock = new ManualClock(5_000);
    clock.set(1_000);
    expect(clock.now()).toBe(5_000);
  });

  it('lets an abort end a sleep without any time passing', async () => {
    const clock = new ManualClock(0);
    const abort = new AbortController();
    const sleeping = clock.sleep(60_000, abort.signal);
    abort.abort();
    await sleeping;
    expect(clock.now()).toBe(0);
    expect(clock.sleepers).toBe(0);
  });
});

describe('systemAgentClock', () => {
  it('ends a long sleep as soon as it is aborted', async () => {
    const abort = new AbortController();
    const sleeping = systemAgentClock.sleep(2 ** 40, abort.signal);
    abort.abort();
    await expect(sleeping).resolves.toBeUndefined();
  });
});
