import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_SUPERVISION, giveUpMessage, restartLine, Supervisor, type Supervised, type SupervisorEvent } from './supervisor.js';

/** A hand-driven clock and timer queue: the test decides when time passes. */
function fakeTime() {
  let now = 0;
  const timers: Array<{ at: number; fn: () => void; cancelled: boolean }> = [];
  return {
    now: () => now,
    schedule: (fn: () => void, ms: number) => {
      const timer = { at: now + ms, fn, cancelled: false };
      timers.push(timer);
      return { cancel: () => (timer.cancelled = true) };
    },
    /** Moves the clock on and fires the timers that came due. */
    advance(ms: number) {
      now += ms;
      for (const t of timers.filter((t) => !t.cancelled && t.at <= now)) {
        t.cancelled = true;
        t.fn();
      }
    },
    pending: () => timers.filter((t) => !t.cancelled).length,
  };
}

function target(label = 'ca-service'): Supervised & { restarts: number } {
  return {
    label,
    logFile: `/data/logs/${label}.log`,
    restarts: 0,
    restart() {
      this.restarts += 1;
      return Promise.resolve();
    },
  };
}

const killed = { pid: 42, code: null, signal: 'SIGKILL' as const };
const exit1 = { pid: 43, code: 1, signal: null };

describe('the stack supervisor', () => {
  it('restarts a crashed process after the initial delay, doubling the delay with every crash inside the window', () => {
    const time = fakeTime();
    const events: SupervisorEvent[] = [];
    const supervisor = new Supervisor({ onEvent: (e) => events.push(e), now: time.now, schedule: time.schedule });
    const ca = target();
    for (let i = 0; i < 3; i += 1) {
      supervisor.crashed(ca, exit1);
      time.advance(10_000);
    }
    expect(events.map((e) => (e.kind === 'restart' ? [e.attempt, e.delayMs] : e.kind))).toEqual([
      [1, 500],
      [2, 1_000],
      [3, 2_000],
    ]);
    expect(ca.restarts).toBe(3);
  });

  it('says in one line which process ended how, the attempt and the delay', () => {
    expect(restartLine({ kind: 'restart', label: 'ca-service', exit: killed, attempt: 1, delayMs: 500 })).toBe(
      'fsm-certs: ca-service (pid 42) was killed by SIGKILL; restarting it in 500 ms (attempt 1)',
    );
    expect(restartLine({ kind: 'restart', label: 'redis-server', exit: exit1, attempt: 3, delayMs: 2_000 })).toBe(
      'fsm-certs: redis-server (pid 43) exited with code 1; restarting it in 2 s (attempt 3)',
    );
  });

  it('gives up at the fifth crash within a minute, naming the process and its log, and restarts nothing after', () => {
    const time = fakeTime();
    const events: SupervisorEvent[] = [];
    const supervisor = new Supervisor({ onEvent: (e) => events.push(e), now: time.now, schedule: time.schedule });
    const ca = target();
    for (let i = 0; i < 5; i += 1) {
      supervisor.crashed(ca, exit1);
      time.advance(5_000);
    }
    const last = events.at(-1);
    expect(last?.kind).toBe('give-up');
    if (last?.kind !== 'give-up') return;
    expect(giveUpMessage(last)).toBe(
      'ca-service crashed 5 times within 60 s (last: exited with code 1); giving up and stopping everything. Its log: /data/logs/ca-service.log',
    );
    expect(ca.restarts).toBe(4);
    supervisor.crashed(target('rotation-worker'), exit1);
    expect(events).toHaveLength(5);
  });

  it('forgets crashes older than the window, so a rare crash never adds up to a give-up', () => {
    const time = fakeTime();
    const events: SupervisorEvent[] = [];
    const supervisor = new Supervisor({ onEvent: (e) => events.push(e), now: time.now, schedule: time.schedule });
    const ca = target();
    for (let i = 0; i < 10; i += 1) {
      supervisor.crashed(ca, killed);
      time.advance(61_000);
    }
    expect(events.every((e) => e.kind === 'restart' && e.attempt === 1 && e.delayMs === 500)).toBe(true);
    expect(ca.restarts).toBe(10);
  });

  it('counts each process separately', () => {
    const time = fakeTime();
    const events: SupervisorEvent[] = [];
    const supervisor = new Supervisor({ onEvent: (e) => events.push(e), now: time.now, schedule: time.schedule });
    for (let i = 0; i < 4; i += 1) {
      supervisor.crashed(target('ca-service'), exit1);
      supervisor.crashed(target('redis-server'), killed);
    }
    expect(events.filter((e) => e.kind === 'give-up')).toHaveLength(0);
  });

  it('counts a failed restart as a crash and tries again later', async () => {
    const time = fakeTime();
    const events: SupervisorEvent[] = [];
    const supervisor = new Supervisor({ onEvent: (e) => events.push(e), now: time.now, schedule: time.schedule });
    const redis: Supervised = { label: 'redis-server', logFile: '/data/logs/redis.log', restart: () => Promise.reject(new Error('port 6380 taken')) };
    supervisor.crashed(redis, killed);
    time.advance(500);
    await new Promise((resolve) => setImmediate(resolve));
    expect(events[1]).toMatchObject({ kind: 'restart', attempt: 2, delayMs: 1_000, exit: { error: 'port 6380 taken' } });
    if (events[1]?.kind === 'restart') expect(restartLine(events[1])).toBe('fsm-certs: redis-server could not be started again (port 6380 taken); restarting it in 1 s (attempt 2)');
  });

  it('restarts nothing once stopped, not even what was already scheduled', () => {
    const time = fakeTime();
    const supervisor = new Supervisor({ onEvent: () => undefined, now: time.now, schedule: time.schedule });
    const ca = target();
    supervisor.crashed(ca, killed);
    supervisor.stop();
    time.advance(60_000);
    supervisor.crashed(ca, killed);
    time.advance(60_000);
    expect(ca.restarts).toBe(0);
    expect(time.pending()).toBe(0);
  });

  it('caps the delay', () => {
    expect(backoffDelay(DEFAULT_SUPERVISION, 1)).toBe(500);
    expect(backoffDelay(DEFAULT_SUPERVISION, 7)).toBe(30_000);
    expect(backoffDelay({ ...DEFAULT_SUPERVISION, maxDelayMs: 3_000 }, 4)).toBe(3_000);
  });

  it('refuses a policy that cannot work', () => {
    expect(() => new Supervisor({ onEvent: () => undefined, policy: { maxCrashes: 0 } })).toThrow(/maxCrashes must be a number >= 1/);
    expect(() => new Supervisor({ onEvent: () => undefined, policy: { maxDelayMs: 10 } })).toThrow(/maxDelayMs must be a number >= 500/);
  });
});
