// Readiness: named checks, each resolving when its dependency is usable, run together with a
// per-check timeout, and the one HTTP answer for /readyz that both the health server and the
// gateway send: 200 {"status":"ready","checks":{…}} or 503 problem+json with code NOT_READY
// naming every failing check.

import { PROBLEM_CODES, PROBLEM_CONTENT_TYPE, problemType } from '@fsm-certs/api';
import { withTimeout } from '@fsm-certs/core';

/** One named readiness check; resolves when ready, throws (or rejects) with the reason when not. */
export type ReadinessCheck = () => Promise<void>;

export type ReadinessChecks = Readonly<Record<string, ReadinessCheck>>;

export interface ReadinessReport {
  readonly ready: boolean;
  /** Check name → "ok" or why it is not ready. */
  readonly checks: Readonly<Record<string, string>>;
}

/** A check that does not answer within this long counts as not ready (a hung Redis must not hang the probe). */
export const READINESS_CHECK_TIMEOUT_MS = 2_000;

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<string> {
  try {
    await withTimeout(check(), timeoutMs);
    return 'ok';
  } catch (error) {
    return error instanceof Error ? error.message : 'failed';
  }
}

export async function checkReadiness(checks: ReadinessChecks, timeoutMs = READINESS_CHECK_TIMEOUT_MS): Promise<ReadinessReport> {
  const names = Object.keys(checks);
  const results = await Promise.all(names.map((name) => runCheck(checks[name] ?? (() => Promise.resolve()), timeoutMs)));
  const byName = Object.fromEntries(names.map((name, i) => [name, results[i] ?? 'failed']));
  return { ready: names.every((name) => byName[name] === 'ok'), checks: byName };
}

export interface ReadinessAnswer {
  readonly status: 200 | 503;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export function readinessAnswer(report: ReadinessReport, retryAfterSeconds = 2): ReadinessAnswer {
  if (report.ready) {
    return { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify({ status: 'ready', checks: report.checks }) };
  }
  const failing = Object.entries(report.checks).filter(([, result]) => result !== 'ok');
  return {
    status: PROBLEM_CODES.NOT_READY.status,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE, 'retry-after': String(retryAfterSeconds) },
    body: JSON.stringify({
      type: problemType('NOT_READY'),
      title: PROBLEM_CODES.NOT_READY.title,
      status: PROBLEM_CODES.NOT_READY.status,
      detail: `Not ready: ${failing.map(([name, result]) => `${name} (${result})`).join(', ')}.`,
      code: 'NOT_READY',
      checks: report.checks,
    }),
  };
}

export type LifecyclePhase = 'starting' | 'running' | 'stopping';

/**
 * The readiness of a service process through its life: not ready while starting, then ready
 * when every check of the started service passes, not ready again from the first stop signal.
 * The `lifecycle` check says which phase it is in.
 */
export class ServiceReadiness {
  private phaseNow: LifecyclePhase = 'starting';
  private serviceChecks: ReadinessChecks = {};

  get phase(): LifecyclePhase {
    return this.phaseNow;
  }

  /** The service started: from now on its own checks decide. */
  running(checks: ReadinessChecks): void {
    if (this.phaseNow === 'stopping') return;
    this.serviceChecks = checks;
    this.phaseNow = 'running';
  }

  stopping(): void {
    this.phaseNow = 'stopping';
  }

  checks(): ReadinessChecks {
    const phase = this.phaseNow;
    const lifecycle: ReadinessCheck = () =>
      phase === 'running' ? Promise.resolve() : Promise.reject(new Error(phase === 'starting' ? 'still starting' : 'shutting down'));
    return { lifecycle, ...(phase === 'running' ? this.serviceChecks : {}) };
  }

  report(timeoutMs?: number): Promise<ReadinessReport> {
    return checkReadiness(this.checks(), timeoutMs);
  }
}
