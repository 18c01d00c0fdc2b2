// Brings crashed processes of the stack back, as a pod's restartPolicy would: after an
// exponential backoff, one log line per restart, and giving up — loudly — when one process keeps
// crashing, because a crash loop that restarts forever hides the problem from the operator.

export interface SupervisionPolicy {
  /** Delay before the first restart; doubles with every crash inside the window. Default 500 ms. */
  readonly initialDelayMs: number;
  /** Upper bound of the delay. Default 30 s. */
  readonly maxDelayMs: number;
  /** Give up at this many crashes of one process within `windowMs`. Default 5. */
  readonly maxCrashes: number;
  /** The window in which crashes are counted; a crash older than this is forgotten. Default 60 s. */
  readonly windowMs: number;
}

export const DEFAULT_SUPERVISION: SupervisionPolicy = { initialDelayMs: 500, maxDelayMs: 30_000, maxCrashes: 5, windowMs: 60_000 };

/** How a process ended: an exit code, a signal, or a failure to start again (`error`). */
export interface ProcessExit {
  readonly pid?: number | undefined;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly error?: string;
}

/** Something the supervisor can bring back. */
export interface Supervised {
  /** Name in messages, e.g. `ca-service` or `redis-server`. */
  readonly label: string;
  /** Where its output goes, named when the supervisor gives up. */
  readonly logFile: string;
  /** Starts it again; resolves once it runs (rejects when it cannot start: counted as a crash). */
  restart(): Promise<void>;
}

export interface RestartEvent {
  readonly kind: 'restart';
  readonly label: string;
  readonly exit: ProcessExit;
  /** Crashes of this process within the window, this one included: 1 for the first. */
  readonly attempt: number;
  readonly delayMs: number;
}

export interface GiveUpEvent {
  readonly kind: 'give-up';
  readonly label: string;
  readonly exit: ProcessExit;
  readonly crashes: number;
  readonly windowMs: number;
  readonly logFile: string;
}

export type SupervisorEvent = RestartEvent | GiveUpEvent;

export interface SupervisorOptions {
  readonly policy?: Partial<SupervisionPolicy>;
  readonly onEvent: (event: SupervisorEvent) => void;
  /** Milliseconds clock; default Date.now (tests pass their own). */
  readonly now?: () => number;
  /** Timer; default setTimeout (tests pass their own). */
  readonly schedule?: (fn: () => void, ms: number) => { cancel(): void };
}

export class Supervisor {
  private readonly policy: SupervisionPolicy;
  private readonly crashes = new Map<string, number[]>();
  private readonly pending = new Set<{ cancel(): void }>();
  private stopped = false;
  private gaveUp = false;

  constructor(private readonly options: SupervisorOptions) {
    this.policy = validPolicy({ ...DEFAULT_SUPERVISION, ...options.policy });
  }

  /** Reports that `target` died without being asked to; schedules its restart or gives up. */
  crashed(target: Supervised, exit: ProcessExit): void {
    if (this.stopped || this.gaveUp) return;
    const now = (this.options.now ?? Date.now)();
    const recent = (this.crashes.get(target.label) ?? []).filter((t) => now - t < this.policy.windowMs);
    recent.push(now);
    this.crashes.set(target.label, recent);
    const attempt = recent.length;
    if (attempt >= this.policy.maxCrashes) {
      this.gaveUp = true;
      this.cancelPending();
      this.options.onEvent({ kind: 'give-up', label: target.label, exit, crashes: attempt, windowMs: this.policy.windowMs, logFile: target.logFile });
      return;
    }
    const delayMs = backoffDelay(this.policy, attempt);
    this.options.onEvent({ kind: 'restart', label: target.label, exit, attempt, delayMs });
    const timer = (this.options.schedule ?? defaultSchedule)(() => {
      this.pending.delete(timer);
      if (this.stopped || this.gaveUp) return;
      target.restart().catch((error: unknown) => {
        this.crashed(target, { code: null, signal: null, error: error instanceof Error ? error.message : String(error) });
      });
    }, delayMs);
    this.pending.add(timer);
  }

  /** No more restarts: the stack is stopping (Ctrl-C, SIGTERM, or it gave up). */
  stop(): void {
    this.stopped = true;
    this.cancelPending();
  }

  private cancelPending(): void {
    for (const timer of this.pending) timer.cancel();
    this.pending.clear();
  }
}

/** initialDelayMs, doubling per crash inside the window, capped at maxDelayMs. */
export function backoffDelay(policy: SupervisionPolicy, attempt: number): number {
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.max(0, attempt - 1));
}

/** `killed by SIGKILL`, `exited with code 1`, or why it could not start. */
export function describeExit(exit: ProcessExit): string {
  if (exit.error !== undefined) return `could not be started again (${exit.error})`;
  if (exit.signal !== null) return `was killed by ${exit.signal}`;
  return `exited with code ${String(exit.code)}`;
}

/** The one line printed per restart. */
export function restartLine(event: RestartEvent): string {
  const pid = event.exit.pid === undefined ? '' : ` (pid ${event.exit.pid})`;
  return `fsm-certs: ${event.label}${pid} ${describeExit(event.exit)}; restarting it in ${formatDelay(event.delayMs)} (attempt ${event.attempt})`;
}

/** Why the stack gave up: which process, how often, how it last ended, where its log is. */
export function giveUpMessage(event: GiveUpEvent): string {
  return (
    `${event.label} crashed ${event.crashes} times within ${formatDelay(event.windowMs)} (last: ${describeExit(event.exit)}); ` +
    `giving up and stopping everything. Its log: ${event.logFile}`
  );
}

function formatDelay(ms: number): string {
  return ms < 1_000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
}

function defaultSchedule(fn: () => void, ms: number): { cancel(): void } {
  const timer = setTimeout(fn, ms);
  return { cancel: () => clearTimeout(timer) };
}

function validPolicy(policy: SupervisionPolicy): SupervisionPolicy {
  const positive = (name: keyof SupervisionPolicy, min: number): void => {
    if (!Number.isFinite(policy[name]) || policy[name] < min) throw new Error(`supervision ${name} must be a number >= ${min}, got ${String(policy[name])}`);
  };
  positive('initialDelayMs', 0);
  positive('maxDelayMs', policy.initialDelayMs);
  positive('maxCrashes', 1);
  positive('windowMs', 1);
  return policy;
}
