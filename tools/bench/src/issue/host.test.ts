// The host's figures beside bench:issue's rounds: the machine's idle and stolen shares from
// /proc/stat, how its idle cores sleep, and a wake-up round trip measured between two processes.
import { describe, expect, it } from 'vitest';
import { machineShares, measureWakeupRoundTrip, parseMachineCpu, readIdlePolicy, readMachineCpu } from './host.js';

const STAT = (user: number, idle: number, steal: number): string =>
  `cpu  ${user} 0 100 ${idle} 20 0 30 ${steal} 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\nintr 12345\n`;

describe('parseMachineCpu', () => {
  it('counts iowait as idle and irq time as busy, from the all-cores line only', () => {
    expect(parseMachineCpu(STAT(1000, 500, 7))).toEqual({ busy: 1130, idle: 520, steal: 7 });
  });

  it('refuses what is not /proc/stat', () => {
    expect(parseMachineCpu('cpu0 1 2 3\n')).toBeUndefined();
    expect(parseMachineCpu('cpu  a b c d e f g\n')).toBeUndefined();
  });

  it('reads this machine', () => {
    const now = readMachineCpu();
    expect(now?.busy).toBeGreaterThan(0);
  });
});

describe('machineShares', () => {
  it('gives the shares of the time between two readings', () => {
    // 300 busy, 100 idle, 100 stolen ticks between the readings.
    expect(machineShares(parseMachineCpu(STAT(1000, 500, 0)), parseMachineCpu(STAT(1300, 600, 100)))).toEqual({ busy_pct: 60, idle_pct: 20, steal_pct: 20 });
  });

  it('says nothing without both readings or without time between them', () => {
    const a = parseMachineCpu(STAT(1000, 500, 0));
    expect(machineShares(undefined, a)).toBeUndefined();
    expect(machineShares(a, a)).toBeUndefined();
  });
});

describe('readIdlePolicy', () => {
  it("names the cpuidle driver and haltpoll's polling time where the kernel has them", () => {
    const files: Record<string, string> = {
      '/sys/devices/system/cpu/cpuidle/current_driver': 'haltpoll\n',
      '/sys/module/haltpoll/parameters/guest_halt_poll_ns': '200000\n',
    };
    const read = (path: string): string => {
      const text = files[path];
      if (text === undefined) throw new Error('ENOENT');
      return text;
    };
    expect(readIdlePolicy(read)).toEqual({ cpuidle_driver: 'haltpoll', guest_halt_poll_ns: 200000 });
    expect(readIdlePolicy(() => { throw new Error('ENOENT'); })).toEqual({});
  });
});

describe('measureWakeupRoundTrip', () => {
  it('times one byte to another process and back, each round trip on its own', async () => {
    const rt = await measureWakeupRoundTrip(200);
    expect(rt.round_trips).toBe(200);
    expect(rt.p10_us).toBeGreaterThan(0);
    expect(rt.p10_us).toBeLessThanOrEqual(rt.p50_us);
    expect(rt.p50_us).toBeLessThanOrEqual(rt.p90_us);
  });
});
