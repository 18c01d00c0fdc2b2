// Keeps the gateway's own HTTPS certificate fresh while the process runs: at the certificate's
// renewAt it asks the ca-service again, hands the new one to the TLS server (setSecureContext,
// so new handshakes use it and open connections are not disturbed) and plans the next renewal.
// A failed renewal is retried, sooner as the expiry nears; it never tightens into a busy loop.
import { EventEmitter } from 'node:events';
import type { Clock } from '@fsm-certs/core';
import type { GatewayLogger } from '../deps.js';
import type { ServerCertificate } from './server-certificate.js';

export type RenewalScheduler = (fn: () => void, delayMs: number) => { cancel(): void };

/** setTimeout fires at once for delays past 2^31-1 ms (~24.8 days); a decade-long wait is chained. */
export const MAX_TIMER_DELAY_MS = 2_147_483_647;

export const realRenewalScheduler: RenewalScheduler = (fn, delayMs) => {
  let timer: NodeJS.Timeout | undefined;
  const arm = (remainingMs: number): void => {
    const step = Math.min(Math.max(0, remainingMs), MAX_TIMER_DELAY_MS);
    timer = setTimeout(() => (remainingMs > step ? arm(remainingMs - step) : fn()), step);
    // A pending renewal must not keep a stopping process alive.
    timer.unref();
  };
  arm(delayMs);
  return { cancel: () => clearTimeout(timer) };
};

/** Retry after a failed renewal: a tenth of the time left, between 1 s and 5 min. */
export function retryDelayMs(notAfterMs: number, nowMs: number): number {
  return Math.min(300_000, Math.max(1_000, Math.floor((notAfterMs - nowMs) / 10)));
}

export interface ServerCertificateRenewalOptions {
  /** Asks the ca-service for the current certificate (obtainServerCertificate). */
  readonly obtain: () => Promise<ServerCertificate>;
  /** Serves the new certificate from now on. */
  readonly apply: (certificate: ServerCertificate) => void;
  readonly logger: GatewayLogger;
  readonly clock: Clock;
  /** Default: setTimeout, unref'd, chained past MAX_TIMER_DELAY_MS. */
  readonly schedule?: RenewalScheduler;
}

export interface ServerCertificateRenewalEvents {
  /** A new certificate is being served. */
  renewed: [certificate: ServerCertificate];
  /** A renewal attempt failed; another is planned. */
  failed: [error: unknown];
}

export class ServerCertificateRenewal extends EventEmitter<ServerCertificateRenewalEvents> {
  private pending: { cancel(): void } | undefined;
  private stopped = false;
  private currentCertificate: ServerCertificate;
  private readonly schedule: RenewalScheduler;

  constructor(
    initial: ServerCertificate,
    private readonly options: ServerCertificateRenewalOptions,
  ) {
    super();
    this.currentCertificate = initial;
    this.schedule = options.schedule ?? realRenewalScheduler;
  }

  get current(): ServerCertificate {
    return this.currentCertificate;
  }

  start(): void {
    this.planAt(Date.parse(this.currentCertificate.renewAt));
  }

  stop(): void {
    this.stopped = true;
    this.pending?.cancel();
    this.pending = undefined;
  }

  private planAt(atMs: number): void {
    if (this.stopped) return;
    const delayMs = Math.max(0, atMs - this.options.clock.now());
    this.options.logger.info({ serialNumber: this.currentCertificate.serialNumber, renewAt: new Date(atMs).toISOString(), renewInMs: delayMs }, 'gateway certificate renewal scheduled');
    this.pending = this.schedule(() => void this.renew(), delayMs);
  }

  private async renew(): Promise<void> {
    if (this.stopped) return;
    const previous = this.currentCertificate;
    try {
      const next = await this.options.obtain();
      if (this.stopped) return;
      if (next.serialNumber === previous.serialNumber) {
        // The ca-service does not see it due yet (clock skew): not a renewal, ask again later.
        throw new Error(`the ca-service returned the same certificate (serial ${next.serialNumber}); it does not consider it due yet`);
      }
      this.options.apply(next);
      this.currentCertificate = next;
      this.options.logger.info({ serialNumber: next.serialNumber, previousSerialNumber: previous.serialNumber, notAfter: next.notAfter }, 'gateway certificate renewed: new TLS handshakes use it');
      this.emit('renewed', next);
      this.planAt(Date.parse(next.renewAt));
    } catch (error) {
      if (this.stopped) return;
      const nowMs = this.options.clock.now();
      const notAfterMs = Date.parse(previous.notAfter);
      const retryMs = retryDelayMs(notAfterMs, nowMs);
      const log = nowMs >= notAfterMs ? this.options.logger.error.bind(this.options.logger) : this.options.logger.warn.bind(this.options.logger);
      log(
        { err: error instanceof Error ? error.message : String(error), serialNumber: previous.serialNumber, notAfter: previous.notAfter, retryInMs: retryMs },
        nowMs >= notAfterMs ? 'gateway certificate has expired and could not be renewed; retrying' : 'gateway certificate renewal failed; retrying',
      );
      this.emit('failed', error);
      this.planAt(nowMs + retryMs);
    }
  }
}
