import { describe, expect, it, vi } from 'vitest';
import { withTimeout } from './timeout.js';

describe('withTimeout', () => {
  it('settles as the promise does when it answers first, and leaves no timer behind', async () => {
    vi.useFakeTimers();
    try {
      await expect(withTimeout(Promise.resolve(7), 1_000)).resolves.toBe(7);
      await expect(withTimeout(Promise.reject(new Error('refused')), 1_000)).rejects.toThrow('refused');
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('rejects once the time has passed first, with the default or the given error', async () => {
    vi.useFakeTimers();
    try {
      const never = new Promise<never>(() => undefined);
      const plain = withTimeout(never, 250);
      const own = withTimeout(never, 250, () => new RangeError('too slow'));
      const checked = Promise.all([expect(plain).rejects.toThrow('no answer within 250 ms'), expect(own).rejects.toBeInstanceOf(RangeError)]);
      await vi.advanceTimersByTimeAsync(250);
      await checked;
    } finally {
      vi.useRealTimers();
    }
  });
});
