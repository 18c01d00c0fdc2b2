// startAgent: the long-running loop that keeps an agent directory fresh. All work is serialised
// in one loop — the first sync at start, renewals at renewAt, re-reads asked for by events and
// reconnections — so two syncs never race to write; requests arriving meanwhile merge into the
// next one. A failed sync keeps the files as they are and is retried with capped, jittered
// backoff; /healthz keeps reporting the certificate's remaining life and the last error.
import { EventEmitter } from 'node:events';
import type { GatewayEvent } from '@fsm-certs/client';
import { fingerprintSha256 } from '@fsm-certs/x509';
import { backoffDelay } from './backoff.js';
import { describeError } from './errors.js';
import { AtomicDirWriter } from './files/atomic-writer.js';
import { readCertificateFiles } from './files/reader.js';
import { followEvents } from './follower.js';
import { gatewayAccess, type GatewayAccess } from './gateway.js';
import { startHealthServer, type AgentHealth, type HealthServer } from './health.js';
import { runHook, type HookOutcome } from './hook.js';
import { chainsTo, filesOf, installedFromFiles, type Installed } from './material.js';
import { resolveOptions, type AgentOptions, type ResolvedOptions } from './options.js';
import { dueAt, Synchronizer, SYNC_KIND_RANK, type FileKind, type SyncKind, type SyncOutcome } from './sync.js';

/** A snapshot was published (the `..data` link now points at it). */
export interface WrittenEvent {
  readonly reason: string;
  readonly outcome: SyncOutcome;
  /** Which files differ from the previous snapshot. */
  readonly changed: readonly FileKind[];
  readonly snapshot: string;
  readonly serialNumber: string;
  readonly notAfter: string;
  readonly renewAt: string | null;
  /** SHA-256 fingerprints of the roots now in ca.pem. */
  readonly trustedRoots: readonly string[];
}

/** A sync with the gateway finished (whether or not it wrote anything). */
export interface SyncedEvent {
  readonly kind: SyncKind;
  readonly outcome: SyncOutcome;
  readonly reason: string;
  readonly serialNumber: string | undefined;
}

export interface AgentErrorEvent {
  readonly code: string;
  readonly message: string;
  readonly during: 'sync' | 'hook';
  /** When the failed sync is tried again (sync only). */
  readonly retryInMs?: number;
}

export interface HookEvent extends HookOutcome {
  readonly serialNumber: string;
}

export interface AgentEvents {
  written: [WrittenEvent];
  synced: [SyncedEvent];
  hook: [HookEvent];
  /** Emitted only while someone listens (an unheard 'error' would otherwise end the process). */
  error: [AgentErrorEvent];
  connected: [{ readonly resumed: boolean }];
  disconnected: [{ readonly code: string; readonly message: string; readonly retryInMs: number }];
}

export interface AgentHandle {
  readonly commonName: string;
  readonly dir: string;
  /** The /healthz server's base URL, when one was asked for. */
  readonly healthUrl: string | undefined;
  on<K extends keyof AgentEvents>(event: K, listener: (...args: AgentEvents[K]) => void): this;
  once<K extends keyof AgentEvents>(event: K, listener: (...args: AgentEvents[K]) => void): this;
  off<K extends keyof AgentEvents>(event: K, listener: (...args: AgentEvents[K]) => void): this;
  /** What GET /healthz answers. */
  health(): AgentHealth;
  /**
   * Asks for a sync now — `refresh` (re-read everything) or `renew` (issue a new certificate) —
   * and resolves when a sync covering this request has succeeded.
   */
  syncNow(kind?: 'refresh' | 'renew'): Promise<SyncedEvent>;
  /** Stops following events, the timers and the health server; the files stay. */
  stop(): Promise<void>;
}

/** Waits longer than this are cut so a wall-clock jump (NTP, a suspended VM) is noticed. */
const MAX_WAIT_MS = 5 * 60_000;

interface PendingSync {
  kind: SyncKind;
  reasons: string[];
  /** The highest request number this sync answers. */
  upTo: number;
}

class Agent extends EventEmitter<AgentEvents> implements AgentHandle {
  readonly commonName: string;
  readonly dir: string;
  healthUrl: string | undefined;

  private readonly abort = new AbortController();
  private readonly gateway: GatewayAccess;
  private readonly writer: AtomicDirWriter;
  private readonly synchronizer: Synchronizer;
  private installed: Installed | undefined;
  private issuingCaPem: string | undefined;
  private lastIssuedAt: number | undefined;
  private pending: PendingSync | undefined;
  private requests = 0;
  private readonly waiters: Array<{ upTo: number; resolve: (event: SyncedEvent) => void; reject: (error: Error) => void }> = [];
  private retryAt = 0;
  private failures = 0;
  private deferrals = 0;
  private renewNotBefore = 0;
  private staleIssuerAt: number | undefined;
  private lastError: { code: string; message: string; at: string } | undefined;
  private lastSyncAt: number | undefined;
  private gatewayReachable = false;
  private eventsConnected = false;
  private streamLossLogged = false;
  private lastEventId: string | undefined;
  private wake: (() => void) | undefined;
  private loops: Array<Promise<void>> = [];
  private healthServer: HealthServer | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: ResolvedOptions) {
    super();
    this.commonName = options.commonName;
    this.dir = options.dir;
    this.gateway = gatewayAccess({ baseUrl: options.gatewayUrl, token: options.token, timeoutMs: options.requestTimeoutMs });
    this.writer = new AtomicDirWriter(options.dir);
    this.synchronizer = new Synchronizer({ options, gateway: this.gateway, logger: options.logger });
  }

  async start(): Promise<void> {
    const { logger } = this.options;
    const found = await readCertificateFiles(this.dir);
    if (found !== undefined) {
      this.installed = installedFromFiles(found, this.commonName);
      if (this.installed === undefined) logger.warn({ dir: this.dir }, 'the files in the directory do not form a usable certificate for this name (missing, unparsable, another name, or a key that does not match); replacing them');
      else logger.info({ dir: this.dir, serialNumber: this.installed.serialNumber, notAfter: this.installed.notAfter.toISOString() }, 'serving the certificate found in the directory until the gateway confirms or replaces it');
    }
    if (this.options.health !== undefined) {
      this.healthServer = await startHealthServer({ ...this.options.health, health: () => this.health() });
      this.healthUrl = this.healthServer.url;
    }
    logger.info(
      { dir: this.dir, commonName: this.commonName, gateway: this.options.gatewayUrl, keyMode: this.options.keyMode, keyAlgorithm: this.options.keyAlgorithm, health: this.healthUrl ?? null },
      'agent started',
    );
    this.request('refresh', 'start');
    this.loops = [this.loop(), this.follow()];
  }

  health(): AgentHealth {
    const now = this.options.clock.now();
    const cert = this.installed;
    const expired = cert !== undefined && now >= cert.notAfter.getTime();
    return {
      status: cert !== undefined && !expired ? 'ok' : 'unhealthy',
      ...(cert === undefined ? { reason: 'no certificate yet' } : expired ? { reason: `the certificate expired at ${cert.notAfter.toISOString()}` } : {}),
      commonName: this.commonName,
      dir: this.dir,
      certificate:
        cert === undefined
          ? null
          : {
              serialNumber: cert.serialNumber,
              notBefore: cert.notBefore.toISOString(),
              notAfter: cert.notAfter.toISOString(),
              renewAt: cert.renewAt?.toISOString() ?? null,
              remainingSeconds: Math.max(0, Math.floor((cert.notAfter.getTime() - now) / 1000)),
            },
      trustBundle: cert === undefined ? null : { roots: cert.trustedCaPems.map((pem) => fingerprintSha256(pem)) },
      lastSyncAt: this.lastSyncAt === undefined ? null : new Date(this.lastSyncAt).toISOString(),
      lastError: this.lastError ?? null,
      gateway: { url: this.options.gatewayUrl, reachable: this.gatewayReachable },
      events: { connected: this.eventsConnected, lastEventId: this.lastEventId ?? null },
    };
  }

  syncNow(kind: 'refresh' | 'renew' = 'refresh'): Promise<SyncedEvent> {
    if (this.abort.signal.aborted) return Promise.reject(new Error('the agent is stopped'));
    return new Promise((resolve, reject) => {
      const upTo = this.request(kind, kind === 'renew' ? 'renewal asked for' : 'refresh asked for', true);
      this.waiters.push({ upTo, resolve, reject });
    });
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.abort.abort();
      this.wake?.();
      for (const waiter of this.waiters.splice(0)) waiter.reject(new Error('the agent stopped'));
      await Promise.all(this.loops);
      await this.healthServer?.close();
      this.options.logger.info({ dir: this.dir }, 'agent stopped; the files stay in place');
    })();
    return this.stopping;
  }

  /** Queues a sync (merging with one already waiting); urgent ones skip the failure backoff. */
  private request(kind: SyncKind, reason: string, urgent = false): number {
    this.requests += 1;
    const p = this.pending;
    if (p === undefined) this.pending = { kind, reasons: [reason], upTo: this.requests };
    else {
      if (SYNC_KIND_RANK[kind] > SYNC_KIND_RANK[p.kind]) p.kind = kind;
      if (!p.reasons.includes(reason)) p.reasons.push(reason);
      p.upTo = this.requests;
    }
    if (urgent) this.retryAt = 0;
    this.wake?.();
    return this.requests;
  }

  private nextRenewalAt(): number | undefined {
    if (this.installed === undefined) return undefined;
    const guard = this.lastIssuedAt === undefined ? 0 : this.lastIssuedAt + this.options.minRenewIntervalMs;
    return Math.max(dueAt(this.installed), guard, this.renewNotBefore);
  }

  private async loop(): Promise<void> {
    const { clock } = this.options;
    const signal = this.abort.signal;
    while (!signal.aborted) {
      const now = clock.now();
      if (this.pending !== undefined) {
        if (now >= this.retryAt) {
          await this.runSync(this.pending);
          continue;
        }
        await this.waitUntil(this.retryAt);
        continue;
      }
      const renewAt = this.nextRenewalAt();
      if (renewAt !== undefined && now >= renewAt) {
        this.request('renew', 'its renew time was reached');
        continue;
      }
      if (this.staleIssuerAt !== undefined && now >= this.staleIssuerAt) {
        this.staleIssuerAt = undefined;
        this.request('stale-issuer', 'the issuing CA changed and the grace period for the gateway to re-issue is over');
        continue;
      }
      const wakes = [renewAt, this.staleIssuerAt].filter((t): t is number => t !== undefined);
      await this.waitUntil(wakes.length === 0 ? undefined : Math.min(...wakes));
    }
  }

  /** Sleeps on the agent's clock until `at` (or for a while), or until a request or stop. */
  private async waitUntil(at: number | undefined): Promise<void> {
    const interrupt = new AbortController();
    const stop = (): void => interrupt.abort();
    this.abort.signal.addEventListener('abort', stop, { once: true });
    this.wake = stop;
    const ms = at === undefined ? MAX_WAIT_MS : Math.min(Math.max(at - this.options.clock.now(), 0), MAX_WAIT_MS);
    try {
      await this.options.clock.sleep(ms, interrupt.signal);
    } finally {
      this.wake = undefined;
      this.abort.signal.removeEventListener('abort', stop);
    }
  }

  private async runSync(job: PendingSync): Promise<void> {
    const { clock, logger, backoff, random } = this.options;
    this.pending = undefined;
    const reason = job.reasons.join('; ');
    try {
      const plan = await this.synchronizer.run(job.kind, this.installed, this.lastIssuedAt);
      if (this.abort.signal.aborted) return;
      for (const write of plan.writes) {
        const { snapshot } = await this.writer.write(filesOf(write.installed), new Date(clock.now()));
        this.installed = write.installed;
        const event: WrittenEvent = {
          reason: plan.reason,
          outcome: plan.outcome,
          changed: write.changed,
          snapshot,
          serialNumber: write.installed.serialNumber,
          notAfter: write.installed.notAfter.toISOString(),
          renewAt: write.installed.renewAt?.toISOString() ?? null,
          trustedRoots: write.installed.trustedCaPems.map((pem) => fingerprintSha256(pem)),
        };
        logger.info({ ...event, trustedRoots: event.trustedRoots.length }, `wrote ${write.changed.join(', ')} (${plan.reason})`);
        this.emit('written', event);
      }
      this.installed = plan.next;
      this.issuingCaPem = plan.issuingCaPem;
      const now = clock.now();
      if (plan.outcome === 'issued') this.lastIssuedAt = now;
      if (plan.outcome === 'deferred') {
        this.deferrals += 1;
        this.renewNotBefore = now + backoffDelay(this.deferrals, backoff, random);
        logger.info({ serialNumber: this.installed?.serialNumber, retryAt: new Date(this.renewNotBefore).toISOString() }, 'the gateway does not consider the certificate due yet; keeping it and asking again later');
      } else if (plan.outcome === 'issued' || plan.outcome === 'adopted') {
        this.deferrals = 0;
        this.renewNotBefore = 0;
      }
      if (this.failures > 0) logger.info({ after: this.failures }, 'the gateway answers again');
      this.failures = 0;
      this.retryAt = 0;
      this.gatewayReachable = true;
      this.lastSyncAt = now;
      this.lastError = undefined;
      this.watchIssuer(now);
      const synced: SyncedEvent = { kind: job.kind, outcome: plan.outcome, reason: plan.reason, serialNumber: this.installed?.serialNumber };
      logger.debug({ ...synced, requestedBy: reason }, 'synced with the gateway');
      this.emit('synced', synced);
      for (const waiter of this.waiters.filter((w) => w.upTo <= job.upTo)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(synced);
      }
      const final = plan.writes.at(-1);
      if (final !== undefined && !this.abort.signal.aborted) await this.reload(final.installed, [...new Set(plan.writes.flatMap((w) => w.changed))], plan.reason);
    } catch (error) {
      this.failures += 1;
      const retryInMs = backoffDelay(this.failures, backoff, random);
      this.retryAt = clock.now() + retryInMs;
      // Keep the request: it is what the retry will do.
      this.requeue(job);
      const { code, message } = describeError(error);
      this.lastError = { code, message, at: new Date(clock.now()).toISOString() };
      if (code === 'GATEWAY_UNREACHABLE') this.gatewayReachable = false;
      const cert = this.installed;
      logger.warn(
        { code, err: message, attempt: this.failures, retryInMs, serving: cert === undefined ? null : { serialNumber: cert.serialNumber, notAfter: cert.notAfter.toISOString() } },
        cert === undefined
          ? `sync with the gateway failed (${code}); no certificate yet; retrying in ${Math.round(retryInMs / 1000)} s`
          : `sync with the gateway failed (${code}); keeping the current files (valid until ${cert.notAfter.toISOString()}); retrying in ${Math.round(retryInMs / 1000)} s`,
      );
      if (this.listenerCount('error') > 0) this.emit('error', { code, message, during: 'sync', retryInMs });
    }
  }

  /** Puts a failed sync back, merged with whatever was asked for while it ran. */
  private requeue(job: PendingSync): void {
    const waiting = this.pending;
    if (waiting === undefined) {
      this.pending = job;
      return;
    }
    if (SYNC_KIND_RANK[job.kind] > SYNC_KIND_RANK[waiting.kind]) waiting.kind = job.kind;
    waiting.reasons = [...new Set([...job.reasons, ...waiting.reasons])];
  }

  /** Arms (or clears) the fallback re-issue after a root rotation switched the issuing CA. */
  private watchIssuer(now: number): void {
    const cert = this.installed;
    const issuing = this.issuingCaPem;
    if (cert === undefined || issuing === undefined || chainsTo(cert.certificatePem, cert.chainPems, [issuing], new Date(now))) {
      this.staleIssuerAt = undefined;
      return;
    }
    if (this.staleIssuerAt !== undefined) return;
    const grace = this.options.issuerChangeGraceMs;
    this.staleIssuerAt = now + grace + Math.floor(grace * this.options.random());
    this.options.logger.info(
      { serialNumber: cert.serialNumber, reissueAt: new Date(this.staleIssuerAt).toISOString() },
      'the gateway issues from another CA now (root rotation); waiting for it to re-issue this certificate, else issuing anew at reissueAt',
    );
  }

  private async reload(installed: Installed, changed: readonly FileKind[], reason: string): Promise<void> {
    const hook = this.options.reload;
    if (hook === undefined) return;
    const { logger, clock } = this.options;
    try {
      const outcome = await runHook(hook, { dir: this.dir, serialNumber: installed.serialNumber, notAfter: installed.notAfter.toISOString(), changed, reason });
      logger.info({ hook: outcome.kind, detail: outcome.detail, serialNumber: installed.serialNumber }, 'reload hook ran');
      this.emit('hook', { ...outcome, serialNumber: installed.serialNumber });
    } catch (error) {
      const { code, message } = describeError(error);
      this.lastError = { code, message, at: new Date(clock.now()).toISOString() };
      logger.warn({ code, err: message, serialNumber: installed.serialNumber }, 'the reload hook failed; the files are written, but the workload may still use the previous ones');
      if (this.listenerCount('error') > 0) this.emit('error', { code, message, during: 'hook' });
    }
  }

  private async follow(): Promise<void> {
    const { logger } = this.options;
    await followEvents({
      gateway: this.gateway,
      clock: this.options.clock,
      random: this.options.random,
      backoff: this.options.backoff,
      idleTimeoutMs: this.options.eventsIdleTimeoutMs,
      signal: this.abort.signal,
      onOpen: (resumed) => {
        this.eventsConnected = true;
        this.streamLossLogged = false;
        logger.info({ resumed, lastEventId: this.lastEventId ?? null }, resumed ? 'event stream resumed; re-reading the certificate and the trust bundle' : 'following the event stream');
        this.emit('connected', { resumed });
        // Anything may have happened while we were not listening.
        this.request('refresh', resumed ? 'the event stream reconnected' : 'the event stream connected', true);
      },
      onEventId: (id) => {
        this.lastEventId = id;
      },
      onEvent: (event) => this.onEvent(event),
      onClose: (error, retryInMs) => {
        const wasConnected = this.eventsConnected;
        this.eventsConnected = false;
        const { code, message } = error === undefined ? { code: 'STREAM_ENDED', message: 'the gateway ended the event stream' } : describeError(error);
        if (error !== undefined) {
          // Not being able to listen is worth reporting even while no sync is due.
          this.lastError = { code, message, at: new Date(this.options.clock.now()).toISOString() };
          if (code === 'GATEWAY_UNREACHABLE') this.gatewayReachable = false;
        }
        if (wasConnected || !this.streamLossLogged) {
          this.streamLossLogged = true;
          logger.warn({ code, err: message, retryInMs }, `event stream lost (${code}); keeping the current files; reconnecting in ${Math.round(retryInMs / 1000)} s`);
        } else logger.debug({ code, err: message, retryInMs }, 'event stream still unavailable');
        this.emit('disconnected', { code, message, retryInMs });
      },
    });
  }

  private onEvent(event: GatewayEvent): void {
    const { logger } = this.options;
    // `reset` is the stream's own message, not an announcement: events we had not seen were trimmed.
    if (event.type === 'reset') {
      logger.info({ id: event.id }, 'the gateway trimmed events this agent had not seen (reset); re-reading everything');
      this.request('refresh', 'the event stream was reset');
      return;
    }
    // Announcements as the contract reads them; a kind this version does not know is skipped.
    const announced = event.event;
    if (announced === undefined) return;
    switch (announced.kind) {
      case 'trust-bundle-changed':
      case 'root-rotation-stage':
        logger.info({ event: announced.kind, id: event.id }, `${announced.kind}: re-reading the trust bundle`);
        this.request('refresh', announced.kind);
        return;
      case 'issued':
      case 'rotated':
      case 'released':
        if (announced.commonName.toLowerCase() !== this.commonName) return;
        logger.info({ event: announced.kind, id: event.id, serialNumber: announced.serialNumber }, `${announced.kind} for this name`);
        this.request('refresh', `${announced.kind} event`);
        return;
      default:
        return;
    }
  }
}

/**
 * Starts an agent: reads the directory's current files (served until the gateway confirms or
 * replaces them), starts /healthz if asked for, and begins syncing. Resolves once the health
 * server listens — not when the first certificate is written (wait for `written`, or poll
 * health()).
 */
export async function startAgent(options: AgentOptions): Promise<AgentHandle> {
  const agent = new Agent(resolveOptions(options));
  try {
    await agent.start();
  } catch (error) {
    await agent.stop();
    throw error;
  }
  return agent;
}
