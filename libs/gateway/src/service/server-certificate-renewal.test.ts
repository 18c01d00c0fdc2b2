// When the gateway's own certificate is renewed: at its renewAt, also when that is years away
// (setTimeout cannot wait that long in one go), and again soon after a failed attempt.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../deps.js';
import { ManualClock } from '../testing/harness.test-helpers.js';
import type { ServerCertificate } from './server-certificate.js';
import { MAX_TIMER_DELAY_MS, ServerCertificateRenewal, realRenewalScheduler, retryDelayMs, type RenewalScheduler } from './server-certificate-renewal.js';

const HOUR = 3_600_000;

function certificate(serialNumber: string, issuedAtMs: number, lifetimeMs: number): ServerCertificate {
  return {
    certificateChainPem: `chain-${serialNumber}`,
    privateKeyPem: `key-${serialNumber}`,
    serialNumber,
    notAfter: new Date(issuedAtMs + lifetimeMs).toISOString(),
    renewAt: new Date(issuedAtMs + (lifetimeMs * 2) / 3).toISOString(),
    trustedCasPem: [],
  };
}

function manualTimers(): { planned: Array<{ fn: () => void; delayMs: number }>; schedule: RenewalScheduler } {
  const planned: Array<{ fn: () => void; delayMs: number }> = [];
  return { planned, schedule: (fn, delayMs) => (planned.push({ fn, delayMs }), { cancel: () => undefined }) };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('realRenewalScheduler', () => {
  it('waits out a delay longer than setTimeout can hold (a decade) instead of firing at once', () => {
    vi.useFakeTimers();
    const fn = vi.fn();
    realRenewalScheduler(fn, 3 * MAX_TIMER_DELAY_MS + 5);
    vi.advanceTimersByTime(MAX_TIMER_DELAY_MS);
    vi.advanceTimersByTime(MAX_TIMER_DELAY_MS);
    vi.advanceTimersByTime(MAX_TIMER_DELAY_MS);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(5);
    expect(fn).toHaveBeenCalledOnce();
  });

  it('fires nothing once cancelled', () => {
    vi.useFakeTimers();
    const fn = vi.fn();
    realRenewalScheduler(fn, 2 * MAX_TIMER_DELAY_MS).cancel();
    vi.advanceTimersByTime(3 * MAX_TIMER_DELAY_MS);
    expect(fn).not.toHaveBeenCalled();
  });
});

describe('ServerCertificateRenewal', () => {
  it('after a failed attempt tries again after a tenth of the time left, and serves the certificate it then gets', async () => {
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
    const timers = manualTimers();
    const applied: string[] = [];
    const answers: Array<() => Promise<ServerCertificate>> = [
      () => Promise.reject(new Error('no live ca-service')),
      () => Promise.resolve(certificate('02', clock.now(), 24 * HOUR)),
    ];
    const renewal = new ServerCertificateRenewal(certificate('01', clock.now(), 24 * HOUR), {
      obtain: () => (answers.shift() ?? (() => Promise.reject(new Error('asked too often'))))(),
      apply: (c) => applied.push(c.serialNumber),
      logger: silentLogger,
      clock,
      schedule: timers.schedule,
    });
    renewal.start();
    expect(timers.planned.map((t) => t.delayMs)).toEqual([16 * HOUR]);

    clock.advance(16 * HOUR);
    const failed = new Promise((resolve) => renewal.once('failed', resolve));
    timers.planned[0]?.fn();
    await failed;
    expect(applied).toEqual([]);
    expect(timers.planned[1]?.delayMs).toBe(retryDelayMs(clock.now() + 8 * HOUR, clock.now()));
    expect(timers.planned[1]?.delayMs).toBe(300_000);

    clock.advance(300_000);
    const renewed = new Promise((resolve) => renewal.once('renewed', resolve));
    timers.planned[1]?.fn();
    await renewed;
    expect(applied).toEqual(['02']);
    expect(renewal.current.serialNumber).toBe('02');
    expect(timers.planned[2]?.delayMs).toBe(16 * HOUR);
  });

  it('does not take the same certificate back as a renewal (the CA does not see it due yet)', async () => {
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
    const timers = manualTimers();
    const current = certificate('01', clock.now(), HOUR);
    const applied: string[] = [];
    const renewal = new ServerCertificateRenewal(current, { obtain: () => Promise.resolve(current), apply: (c) => applied.push(c.serialNumber), logger: silentLogger, clock, schedule: timers.schedule });
    renewal.start();
    clock.advance(timers.planned[0]?.delayMs ?? 0);
    const failed = new Promise((resolve) => renewal.once('failed', resolve));
    timers.planned[0]?.fn();
    await failed;
    expect(applied).toEqual([]);
    // 20 minutes left: retried after 2 minutes, not in a tight loop.
    expect(timers.planned[1]?.delayMs).toBe(120_000);
  });
});
