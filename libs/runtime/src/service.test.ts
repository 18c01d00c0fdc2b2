// runService, in-process: the same exit codes, log lines and readiness phases for every app.
// (The apps' own tests run the real processes.)
import { describe, expect, it, vi } from 'vitest';
import { FsmError } from '@fsm-certs/core';
import { memoryStream } from './memory-logger.test-helpers.js';
import { runService, type ServiceDefinition, type StartedService } from './service.js';
import { EXIT_CODES, startupExitCode, StartupError } from './startup.js';

function exitRecorder(): { codes: number[]; exited: Promise<number>; exit: (code: number) => void } {
  const codes: number[] = [];
  let resolve: (code: number) => void = () => undefined;
  const exited = new Promise<number>((r) => (resolve = r));
  return {
    codes,
    exited,
    exit: (code) => {
      codes.push(code);
      resolve(code);
    },
  };
}

function gate(): { promise: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

const env = { HEALTH_PORT: '0', LOG_LEVEL: 'info' };

describe('runService', () => {
  it('exits 2 with exactly one line naming key, value and what is allowed, before starting anything', async () => {
    const { stream, lines } = memoryStream();
    const exits = exitRecorder();
    let started = false;
    runService({ name: 'demo', start: () => ((started = true), Promise.reject(new Error('unreachable'))) }, { env: { ...env, WORKER_SHUTDOWN_TIMEOUT: 'soon' }, exit: exits.exit, logDestination: stream, signals: [] });
    expect(await exits.exited).toBe(2);
    expect(started).toBe(false);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
      level: 60,
      service: 'demo',
      code: 'CONFIG_INVALID',
      exitCode: 2,
      msg: 'demo failed to start: Invalid configuration: worker.shutdownTimeout="soon" (env WORKER_SHUTDOWN_TIMEOUT): allowed: a Go duration of at least 1s, e.g. 25s',
    });
  });

  it('still prints that line with LOG_LEVEL=silent', async () => {
    const exits = exitRecorder();
    const { stream, lines } = memoryStream();
    runService({ name: 'demo', start: () => Promise.reject(new Error('unreachable')) }, { env: { ...env, LOG_LEVEL: 'silent', HEALTH_PORT: '-1' }, exit: exits.exit, logDestination: stream, signals: [] });
    expect(await exits.exited).toBe(2);
    expect(lines).toHaveLength(1);
    expect((JSON.parse(lines[0] ?? '{}') as { msg?: string }).msg).toContain('health.port="-1" (env HEALTH_PORT)');
  });

  it('exits 1 with one fatal line (with the cause) when the start fails for another reason', async () => {
    const { stream, lines } = memoryStream();
    const exits = exitRecorder();
    runService({ name: 'demo', start: () => Promise.reject(new StartupError('Redis did not answer within 30 s')) }, { env, exit: exits.exit, logDestination: stream, signals: [] });
    expect(await exits.exited).toBe(1);
    const fatal = lines.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level === 60);
    expect(fatal.map((l) => l.msg)).toEqual(['demo failed to start: Redis did not answer within 30 s']);
  });

  it('serves readiness through the life cycle: starting, the service checks once running, stopping; then closes and exits 0', async () => {
    const { stream } = memoryStream();
    const exits = exitRecorder();
    const startGate = gate();
    let redisUp = true;
    let closedWith: AbortSignal | undefined;
    const definition: ServiceDefinition = {
      name: 'demo',
      async start(): Promise<StartedService> {
        await startGate.promise;
        return {
          readiness: { redis: () => (redisUp ? Promise.resolve() : Promise.reject(new Error('connect ECONNREFUSED'))) },
          close: (cancel) => {
            closedWith = cancel;
            return Promise.resolve();
          },
        };
      },
    };
    const running = runService(definition, { env, exit: exits.exit, logDestination: stream, signals: [] });
    const health = await waitFor(() => running.health());
    const readyz = async (): Promise<{ status: number; body: { checks: Record<string, string> } }> => {
      const res = await fetch(`${health.url}/readyz`);
      return { status: res.status, body: (await res.json()) as { checks: Record<string, string> } };
    };
    expect((await fetch(`${health.url}/healthz`)).status).toBe(200);
    expect(await readyz()).toMatchObject({ status: 503, body: { checks: { lifecycle: 'still starting' } } });

    startGate.open();
    await running.started;
    expect(await readyz()).toEqual({ status: 200, body: { status: 'ready', checks: { lifecycle: 'ok', redis: 'ok' } } });
    redisUp = false;
    expect(await readyz()).toMatchObject({ status: 503, body: { checks: { lifecycle: 'ok', redis: 'connect ECONNREFUSED' } } });

    running.stop();
    expect(running.readiness.phase).toBe('stopping');
    expect(await exits.exited).toBe(0);
    expect(closedWith?.aborted).toBe(false);
    // The health server went down with the process.
    await expect(fetch(`${health.url}/healthz`)).rejects.toThrow();
  });

  it('refuses a health port already taken, naming HEALTH_PORT, with exit 1', async () => {
    const first = runService({ name: 'one', start: () => Promise.resolve({ readiness: {}, close: () => Promise.resolve() }) }, { env, exit: () => undefined, logDestination: memoryStream().stream, signals: [] });
    const taken = (await waitFor(() => first.health())).port;
    const { stream, lines } = memoryStream();
    const exits = exitRecorder();
    runService({ name: 'two', start: () => Promise.resolve({ readiness: {}, close: () => Promise.resolve() }) }, { env: { ...env, HEALTH_PORT: String(taken) }, exit: exits.exit, logDestination: stream, signals: [] });
    expect(await exits.exited).toBe(1);
    expect(lines.join('\n')).toContain(`cannot listen on 127.0.0.1:${taken} (EADDRINUSE): set HEALTH_PORT to a free port`);
    first.stop();
  });
});

describe('startupExitCode', () => {
  it.each([
    ['a provider finding its configured issuer missing', new FsmError('CONFIGURATION_INVALID', 'Issuer fsm-system/fsm-ca does not exist', { httpStatus: 500, retryable: false }), EXIT_CODES.badConfig],
    ['an ACME issuer configured for cert-manager', new FsmError('UNSUPPORTED_ISSUER', 'ACME', { httpStatus: 500, retryable: false }), EXIT_CODES.badConfig],
    ['Redis not configured', new StartupError('set REDIS_URL'), EXIT_CODES.failed],
    ['a backend that is down', new FsmError('BACKEND_UNAVAILABLE', 'Vault sealed', { httpStatus: 503, retryable: true }), EXIT_CODES.failed],
    ['a plain bug', new TypeError('x is undefined'), EXIT_CODES.failed],
  ])('%s: exit code %d', (_what, error, code) => {
    expect(startupExitCode(error)).toBe(code);
  });
});

/** Polls until `probe` returns a value; the timeout is a failure guard, not a measurement. */
async function waitFor<T>(probe: () => T | undefined): Promise<T> {
  return vi.waitFor(
    () => {
      const value = probe();
      if (value === undefined) throw new Error('not yet');
      return value;
    },
    { timeout: 30_000, interval: 10 },
  );
}
