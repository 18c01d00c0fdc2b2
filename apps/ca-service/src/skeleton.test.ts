// The ca-service as a pod runs it, on the shared service skeleton (libs/runtime): health
// endpoints for the kubelet's probes and Prometheus, and one exit-code policy at start-up.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { freePort, startRedisServer, type RedisServerHandle } from '@fsm-certs/queue';
import { AppProcess, runAppToExit } from '@fsm-certs/stack';
import { eventually } from '@fsm-certs/testing';

const dataDir = mkdtempSync(path.join(tmpdir(), 'fsm-ca-skeleton-'));
let app: AppProcess | undefined;
let redis: RedisServerHandle | undefined;

afterEach(async () => {
  await app?.stop();
  app = undefined;
  await redis?.stop();
  redis = undefined;
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function baseEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'], HOME: process.env['HOME'], FSM_DATA_DIR: dataDir, FSM_REDIS_PREFIX: '{fsm-ca-skeleton}', HEALTH_PORT: '0', ...extra };
}

describe('ca-service start-up failures', () => {
  it('exits 2 with one line naming the key, the value and what is allowed when a value is bad', () => {
    const { status, lines } = runAppToExit('ca-service', baseEnv({ REDIS_URL: 'redis://127.0.0.1:1', HEALTH_PORT: 'lots' }));
    expect(status).toBe(2);
    expect(lines, lines.join('\n')).toHaveLength(1);
    const line = JSON.parse(lines[0] ?? '{}') as { msg?: string; level?: number };
    expect(line.msg).toBe('ca-service failed to start: Invalid configuration: health.port="lots" (env HEALTH_PORT): allowed: TCP port 0-65535 (0 = any free port)');
  });

  it('exits 1 with one fatal line when there is no Redis to use', () => {
    const { status, lines } = runAppToExit('ca-service', baseEnv({}));
    expect(status).toBe(1);
    const fatal = lines.filter((l) => (JSON.parse(l) as { level?: number }).level === 60);
    expect(fatal, lines.join('\n')).toHaveLength(1);
    expect(fatal[0]).toContain('ca-service needs Redis: set REDIS_URL');
  });
});

describe('ca-service health endpoints', () => {
  it('is live at once, not ready until Redis answers and the workers run, then ready, with process metrics', async () => {
    const port = await freePort();
    app = new AppProcess('ca-service', { env: baseEnv({ REDIS_URL: `redis://127.0.0.1:${port}` }) });
    const url = await app.healthUrl();
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    // Redis is not there yet: the process lives, but must not count as ready.
    const starting = await fetch(`${url}/readyz`);
    expect(starting.status).toBe(503);
    expect(starting.headers.get('content-type')).toBe('application/problem+json');
    expect(await starting.json()).toMatchObject({ code: 'NOT_READY', checks: { lifecycle: 'still starting' } });

    redis = await startRedisServer({ port, appendOnly: false });
    const ready = await eventually(
      async () => {
        const res = await fetch(`${url}/readyz`);
        return res.status === 200 ? ((await res.json()) as unknown) : undefined;
      },
      45_000,
      'the ca-service to become ready',
    );
    expect(ready).toEqual({ status: 'ready', checks: { lifecycle: 'ok', redis: 'ok', provider: 'ok', workers: 'ok' } });

    const metrics = await fetch(`${url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(await metrics.text()).toMatch(/^process_cpu_user_seconds_total \d/m);

    app.signal('SIGTERM');
    expect(await app.exited()).toBe(0);
  }, 120_000);
});
