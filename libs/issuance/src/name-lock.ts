// Serialises issuance per common name. The check-then-issue sequence (is there a usable cert? is
// the serial still the one to rotate?) must not interleave for one name, neither between the
// jobs of one process nor between ca-service replicas. Inside a process a promise chain orders
// callers; across processes a Redis lock (SET NX PX + compare-and-delete) does, kept alive while
// held so a slow backend cannot lose it, and short-lived so a killed holder frees it quickly.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { IssuanceError } from './errors.js';

export interface NameLockOptions {
  /** Key prefix with the hash tag, e.g. `{fsm-certs}`. */
  readonly prefix: string;
  /** Lock lifetime without renewal; a crashed holder blocks others at most this long. Default 5000. */
  readonly ttlMs?: number;
  /** How long to wait for a busy name before giving up with NAME_BUSY (retryable). Default 15000. */
  readonly waitMs?: number;
  /** Runs `renew` every `everyMs` while a lock is held and returns how to stop; default a timer. Tests renew by hand. */
  readonly renewal?: RenewalSchedule;
}

/** `renew` resolves true when the lock was still ours and got its full TTL back. */
export type RenewalSchedule = (everyMs: number, renew: () => Promise<boolean>) => () => void;

const renewOnTimer: RenewalSchedule = (everyMs, renew) => {
  const timer = setInterval(() => void renew(), everyMs);
  timer.unref();
  return () => clearInterval(timer);
};

const RELEASE_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const EXTEND_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class NameLock {
  private readonly local = new Map<string, Promise<void>>();
  private readonly ttlMs: number;
  private readonly waitMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly options: NameLockOptions,
  ) {
    this.ttlMs = options.ttlMs ?? 5_000;
    this.waitMs = options.waitMs ?? 15_000;
  }

  /** Runs `fn` while holding the lock for `name` in this process and across replicas. */
  async withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.local.get(name) ?? Promise.resolve();
    let releaseLocal: () => void = () => undefined;
    const mine = new Promise<void>((resolve) => {
      releaseLocal = resolve;
    });
    const tail = previous.then(() => mine);
    this.local.set(name, tail);
    try {
      await previous;
      return await this.withRedisLock(name, fn);
    } finally {
      releaseLocal();
      if (this.local.get(name) === tail) this.local.delete(name);
    }
  }

  private key(name: string): string {
    return `${this.options.prefix}:issuance:lock:${name}`;
  }

  private async withRedisLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const key = this.key(name);
    const token = randomUUID();
    const deadline = Date.now() + this.waitMs;
    let delay = 5;
    for (;;) {
      const ok = await this.redis.set(key, token, 'PX', this.ttlMs, 'NX');
      if (ok === 'OK') break;
      if (Date.now() >= deadline) {
        throw new IssuanceError(
          'NAME_BUSY',
          `Another issuance for "${name}" has held its lock for over ${this.waitMs} ms; the job will be retried. If this persists, check for a stuck ca-service replica.`,
        );
      }
      await sleep(delay);
      delay = Math.min(delay * 2, 100);
    }
    const stopRenewal = (this.options.renewal ?? renewOnTimer)(Math.max(50, Math.floor(this.ttlMs / 3)), () =>
      this.redis.eval(EXTEND_SCRIPT, 1, key, token, String(this.ttlMs)).then(
        (extended) => extended === 1,
        () => false,
      ),
    );
    try {
      return await fn();
    } finally {
      stopRenewal();
      // A failed release only delays the next holder until the TTL runs out.
      await this.redis.eval(RELEASE_SCRIPT, 1, key, token).catch(() => undefined);
    }
  }
}
