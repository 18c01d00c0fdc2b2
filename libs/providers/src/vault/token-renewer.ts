// Keeps a renewable Vault token alive: renews at 2/3 of its remaining TTL (Vault tokens are
// leases), and after a failed renewal tries again sooner. The timer is injectable for tests.
import type { VaultLogger } from './logger.js';
import type { VaultClient } from './vault-client.js';

export type Scheduler = (fn: () => void, delayMs: number) => { cancel(): void };

export const realScheduler: Scheduler = (fn, delayMs) => {
  const timer = setTimeout(fn, delayMs);
  // A pending renewal must not keep the process alive on shutdown.
  timer.unref();
  return { cancel: () => clearTimeout(timer) };
};

const RENEW_FRACTION = 2 / 3;
const RETRY_AFTER_FAILURE_MS = 30_000;

export class TokenRenewer {
  private pending: { cancel(): void } | undefined;
  private stopped = false;

  constructor(
    private readonly client: VaultClient,
    private readonly logger: VaultLogger,
    private readonly schedule: Scheduler = realScheduler,
    /** Asked for on each renewal; undefined lets Vault use the token's own period. */
    private readonly increment?: string,
  ) {}

  /** Start from a lookup-self answer. Non-renewable or non-expiring tokens need nothing. */
  start(ttlSeconds: number, renewable: boolean): void {
    if (ttlSeconds <= 0) return;
    if (!renewable) {
      this.logger.warn({ ttlSeconds }, 'vault token is not renewable and will expire; give fsm-certs a renewable or periodic token');
      return;
    }
    this.plan(ttlSeconds);
  }

  stop(): void {
    this.stopped = true;
    this.pending?.cancel();
    this.pending = undefined;
  }

  private plan(ttlSeconds: number): void {
    if (this.stopped) return;
    const delayMs = Math.max(1_000, Math.floor(ttlSeconds * 1000 * RENEW_FRACTION));
    this.logger.info({ ttlSeconds, renewInMs: delayMs }, 'vault token renewal scheduled');
    this.pending = this.schedule(() => void this.renew(ttlSeconds), delayMs);
  }

  private async renew(previousTtlSeconds: number): Promise<void> {
    if (this.stopped) return;
    try {
      const result = await this.client.renewSelf(this.increment);
      this.logger.info({ leaseDurationSeconds: result.leaseDurationSeconds }, 'vault token renewed');
      if (result.renewable && result.leaseDurationSeconds > 0) this.plan(result.leaseDurationSeconds);
    } catch (error) {
      const retryMs = Math.min(RETRY_AFTER_FAILURE_MS, Math.max(1_000, Math.floor((previousTtlSeconds * 1000) / 6)));
      this.logger.error({ err: error instanceof Error ? error.message : String(error), retryInMs: retryMs }, 'vault token renewal failed');
      if (!this.stopped) this.pending = this.schedule(() => void this.renew(previousTtlSeconds), retryMs);
    }
  }
}
