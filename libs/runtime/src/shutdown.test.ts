// One shutdown budget: work in hand gets until `cancelLead` before the end, is then cancelled
// and cleaned up, and the process still exits 0 inside the budget; only an overrun exits 1.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '@fsm-certs/config';
import { memoryLogger } from './memory-logger.test-helpers.js';
import { cancelLeadFor, CLOSE_RESERVE_MS, installShutdownHandlers, type ShutdownHandle } from './shutdown.js';

let handle: ShutdownHandle | undefined;

afterEach(() => {
  handle?.uninstall();
  handle = undefined;
  vi.useRealTimers();
});

/** A close() that waits for work which only ends when cancelled (a stalled CertificateRequest). */
function stalledWork(cleanupMs: number): { close: (cancel: AbortSignal) => Promise<void>; cancelledAt: number[] } {
  const cancelledAt: number[] = [];
  return {
    cancelledAt,
    close: (cancel) =>
      new Promise<void>((resolve) => {
        cancel.addEventListener('abort', () => {
          cancelledAt.push(Date.now());
          // Clean-up (deleting the request) takes a while, but less than the lead.
          setTimeout(resolve, cleanupMs);
        });
      }),
  };
}

describe('installShutdownHandlers', () => {
  it('cancels work still in flight `cancelLead` before the budget ends, lets it clean up, and exits 0', async () => {
    vi.useFakeTimers({ now: 0 });
    const { logger, lines } = memoryLogger();
    const exits: number[] = [];
    const work = stalledWork(9_000);
    handle = installShutdownHandlers({ logger, budgetMs: 25_000, cancelLeadMs: () => 12_000, close: work.close, exit: (code) => exits.push(code), signals: [] });
    handle.trigger('SIGTERM');
    await vi.advanceTimersByTimeAsync(12_999);
    expect(work.cancelledAt).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(work.cancelledAt).toEqual([13_000]);
    await vi.advanceTimersByTimeAsync(9_000);
    expect(exits).toEqual([0]);
    expect(lines.some((l) => l.includes('stopped cleanly after cancelling work in flight'))).toBe(true);
  });

  it('exits 0 at once, without cancelling, when the work in hand finishes in time', async () => {
    vi.useFakeTimers({ now: 0 });
    const exits: number[] = [];
    let cancelled = false;
    handle = installShutdownHandlers({
      logger: memoryLogger().logger,
      budgetMs: 25_000,
      cancelLeadMs: () => 12_000,
      close: (cancel) => {
        cancel.addEventListener('abort', () => void (cancelled = true));
        return new Promise<void>((resolve) => setTimeout(resolve, 1_000));
      },
      exit: (code) => exits.push(code),
      signals: [],
    });
    handle.trigger('SIGTERM');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(exits).toEqual([0]);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(exits).toEqual([0]);
    expect(cancelled).toBe(false);
  });

  it('exits 1 when even cancelled work overruns the budget', async () => {
    vi.useFakeTimers({ now: 0 });
    const { logger, lines } = memoryLogger();
    const exits: number[] = [];
    handle = installShutdownHandlers({ logger, budgetMs: 10_000, cancelLeadMs: () => 2_000, close: stalledWork(5_000).close, exit: (code) => exits.push(code), signals: [] });
    handle.trigger('SIGTERM');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(exits).toEqual([1]);
    expect(lines.some((l) => l.includes('shutdown overran its budget'))).toBe(true);
  });

  it('cancels at once when the lead is longer than the budget', async () => {
    vi.useFakeTimers({ now: 0 });
    const exits: number[] = [];
    const work = stalledWork(100);
    handle = installShutdownHandlers({ logger: memoryLogger().logger, budgetMs: 1_000, cancelLeadMs: () => CLOSE_RESERVE_MS, close: work.close, exit: (code) => exits.push(code), signals: [] });
    handle.trigger('SIGINT');
    await vi.advanceTimersByTimeAsync(0);
    expect(work.cancelledAt).toEqual([0]);
    await vi.advanceTimersByTimeAsync(100);
    expect(exits).toEqual([0]);
  });

  it('exits 1 at once on a second signal, and 1 when close fails', async () => {
    vi.useFakeTimers({ now: 0 });
    const exits: number[] = [];
    handle = installShutdownHandlers({ logger: memoryLogger().logger, budgetMs: 60_000, close: () => new Promise<void>(() => undefined), exit: (code) => exits.push(code), signals: [] });
    handle.trigger('SIGTERM');
    handle.trigger('SIGTERM');
    expect(exits).toEqual([1]);
    handle.uninstall();

    const failing: number[] = [];
    handle = installShutdownHandlers({ logger: memoryLogger().logger, close: () => Promise.reject(new Error('redis gone')), exit: (code) => failing.push(code), signals: [] });
    handle.trigger('SIGTERM');
    await vi.advanceTimersByTimeAsync(0);
    expect(failing).toEqual([1]);
  });

  it('runs on a real SIGTERM sent to the process', async () => {
    const exits: number[] = [];
    handle = installShutdownHandlers({ logger: memoryLogger().logger, close: () => Promise.resolve(), exit: (code) => exits.push(code), signals: ['SIGUSR2'] });
    process.kill(process.pid, 'SIGUSR2');
    await vi.waitFor(() => expect(exits).toEqual([0]));
  });
});

describe('cancelLeadFor', () => {
  it('leaves the slowest call in flight its settle time plus the close reserve', () => {
    expect(cancelLeadFor(10_000, 25_000, 'the vault provider')).toBe(10_000 + CLOSE_RESERVE_MS);
    expect(cancelLeadFor(0, 1_000, 'the tresor provider')).toBe(CLOSE_RESERVE_MS);
  });

  it('refuses, as bad configuration naming the option, a budget too short for calls in flight to settle', () => {
    let error: unknown;
    try {
      cancelLeadFor(10_000, 5_000, 'the vault provider');
    } catch (caught) {
      error = caught;
    }
    if (!(error instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(error)}`);
    expect(error.message).toBe(
      'Invalid configuration: worker.shutdownTimeout="5s" (WORKER_SHUTDOWN_TIMEOUT): allowed: at least 12s with the vault provider, whose calls in flight take up to 10s to settle once cancelled',
    );
  });
});
