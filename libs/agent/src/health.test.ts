import { afterAll, describe, expect, it } from 'vitest';
import { startHealthServer, type AgentHealth, type HealthServer } from './health.js';

const ok: AgentHealth = {
  status: 'ok',
  commonName: 'a.b.cluster.local',
  dir: '/certs',
  certificate: { serialNumber: '01', notBefore: '2026-01-01T00:00:00.000Z', notAfter: '2026-01-02T00:00:00.000Z', renewAt: null, remainingSeconds: 3600 },
  trustBundle: { roots: ['ab'] },
  lastSyncAt: null,
  lastError: { code: 'GATEWAY_UNREACHABLE', message: 'down', at: '2026-01-01T01:00:00.000Z' },
  gateway: { url: 'http://gw', reachable: false },
  events: { connected: false, lastEventId: null },
};

let current: AgentHealth = ok;
const servers: HealthServer[] = [];
afterAll(async () => Promise.all(servers.map((s) => s.close())));

describe('the health server', () => {
  it('answers 200 with the health as JSON while there is a valid certificate, even with an error to report', async () => {
    const server = await startHealthServer({ host: '127.0.0.1', port: 0, health: () => current });
    servers.push(server);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    current = ok;
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(ok);
    current = { ...ok, status: 'unhealthy', reason: 'no certificate yet', certificate: null };
    const down = await fetch(`${server.url}/healthz`);
    expect(down.status).toBe(503);
    expect(((await down.json()) as AgentHealth).reason).toBe('no certificate yet');
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
    expect((await fetch(`${server.url}/healthz`, { method: 'POST' })).status).toBe(405);
  });
});
