// The health server answers the three paths a probe or a scraper uses, and nothing else.
import { afterEach, describe, expect, it } from 'vitest';
import { Counter } from 'prom-client';
import { startHealthServer, type HealthServer } from './health-server.js';
import { createMetricsRegistry } from './metrics.js';
import { checkReadiness, readinessAnswer } from './readiness.js';

let server: HealthServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('health server', () => {
  it('serves /metrics in Prometheus text with process metrics and the service own, 404 elsewhere, 405 for writes', async () => {
    const registry = createMetricsRegistry();
    new Counter({ name: 'fsm_certs_demo_total', help: 'demo', registers: [registry] }).inc(3);
    server = await startHealthServer({ host: '127.0.0.1', port: 0, registry, readiness: () => checkReadiness({}) });
    const metrics = await fetch(`${server.url}/metrics`);
    expect(metrics.headers.get('content-type')).toBe(registry.contentType);
    const text = await metrics.text();
    expect(text).toMatch(/^fsm_certs_demo_total 3$/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
    expect((await fetch(`${server.url}/v1/certificates`)).status).toBe(404);
    expect((await fetch(`${server.url}/healthz`, { method: 'POST' })).status).toBe(405);
    expect(await (await fetch(`${server.url}/readyz`)).json()).toEqual({ status: 'ready', checks: {} });
  });
});

describe('readiness', () => {
  it('counts a check that does not answer in time as not ready, naming it', async () => {
    const report = await checkReadiness({ redis: () => new Promise<void>(() => undefined), provider: () => Promise.resolve() }, 50);
    expect(report).toEqual({ ready: false, checks: { redis: 'no answer within 50 ms', provider: 'ok' } });
    const answer = readinessAnswer(report, 3);
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe('3');
    expect(JSON.parse(answer.body)).toEqual({
      type: 'https://fsm-certs.dev/problems/not-ready',
      title: 'Not ready',
      status: 503,
      detail: 'Not ready: redis (no answer within 50 ms).',
      code: 'NOT_READY',
      checks: { redis: 'no answer within 50 ms', provider: 'ok' },
    });
  });
});
