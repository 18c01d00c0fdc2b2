// The rotation-worker as a pod runs it, on the shared service skeleton (libs/runtime): health
// endpoints whose readiness means "sweeps will happen", and one exit-code policy at start-up.
import { describe, expect, it } from 'vitest';
import { createRedisConnection } from '@fsm-certs/queue';
import { usePrivateRedis } from '@fsm-certs/queue/testing';
import { AppProcess, runAppToExit } from '@fsm-certs/stack';
import { eventually } from '@fsm-certs/testing';

const db = usePrivateRedis();

function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'], HOME: process.env['HOME'], REDIS_URL: db.url, FSM_REDIS_PREFIX: '{fsm-rw-skeleton}', HEALTH_PORT: '0', ...extra };
}

async function readyz(url: string): Promise<{ status: number; body: { checks?: Record<string, string> } }> {
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, body: (await res.json()) as { checks?: Record<string, string> } };
}

describe('rotation-worker on the service skeleton', () => {
  it('exits 2 with one line naming the key, the value and what is allowed when a value is bad', () => {
    const { status, lines } = runAppToExit('rotation-worker', env({ ROTATION_SWEEP_INTERVAL: 'often' }));
    expect(status).toBe(2);
    expect(lines, lines.join('\n')).toHaveLength(1);
    expect((JSON.parse(lines[0] ?? '{}') as { msg?: string }).msg).toBe(
      'rotation-worker failed to start: Invalid configuration: worker.sweepInterval="often" (env ROTATION_SWEEP_INTERVAL): allowed: a Go duration of at least 100ms, e.g. 5s',
    );
  });

  it('answers /healthz and /metrics, is ready only while its sweep schedule is registered, and exits 0 on SIGTERM within its budget', async () => {
    const app = new AppProcess('rotation-worker', { env: env({ WORKER_SHUTDOWN_TIMEOUT: '3s' }) });
    try {
      const url = await app.healthUrl();
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const ready = await eventually(async () => {
        const r = await readyz(url);
        return r.status === 200 ? r.body : undefined;
      }, 45_000, 'the rotation-worker to become ready');
      expect(ready.checks).toEqual({ lifecycle: 'ok', redis: 'ok', scheduler: 'ok', worker: 'ok' });
      expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/^process_cpu_user_seconds_total \d/m);

      // Redis loses its data (a restart without persistence) while the connection stays up:
      // no sweep will ever fire again, and readiness has to say so.
      const admin = createRedisConnection(db.url, { role: 'client' });
      try {
        await admin.flushall();
      } finally {
        admin.disconnect();
      }
      const lost = await readyz(url);
      expect(lost.status).toBe(503);
      expect(lost.body.checks).toMatchObject({ redis: 'ok', scheduler: 'sweep schedule rotation-sweep is not registered' });

      app.signal('SIGTERM');
      expect(await app.exited()).toBe(0);
      const lines = app.recentOutput.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg?: string; budgetMs?: number });
      expect(lines.find((l) => l.msg === 'shutting down: finishing in-flight work')?.budgetMs).toBe(3_000);
      expect(lines.map((l) => l.msg)).toContain('stopped cleanly');
    } finally {
      await app.stop();
    }
  }, 120_000);
});
