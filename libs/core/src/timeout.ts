// A promise given a deadline: the one form of "answer within N ms or fail" every package uses.

/**
 * Settles as `promise` does, or rejects with `timeoutError()` once `ms` have passed first (by
 * default "no answer within <ms> ms"). The timer is cleared either way, so nothing keeps the
 * process alive after the answer; the promise itself is not cancelled.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, timeoutError: () => Error = () => new Error(`no answer within ${ms} ms`)): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeoutError()), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
