// The whole gateway process minus signals: real Redis, BullMQ, a stand-in ca-service worker.
import { randomBytes } from 'node:crypto';
import tls from 'node:tls';
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Inventory,
  createIssueWorker,
  createRedisConnection,
  generateKek,
  publishHeartbeat,
  type IssueJobPayload,
  type IssueJobResult,
} from '@fsm-certs/queue';
import { silentLogger } from '../deps.js';
import { FakeIssueClient, GRANTS, TOKENS, startSharedRedis, type SharedRedis } from '../testing/harness.test-helpers.js';
import { startIssuerGateway, type IssuerGatewayOptions } from './start.js';

let shared: SharedRedis;
const extra: Redis[] = [];

beforeAll(async () => {
  shared = await startSharedRedis();
});
afterAll(async () => {
  for (const c of extra) c.disconnect();
  await shared.close();
});

function setup(): { options: IssuerGatewayOptions; startWorker(): Worker<IssueJobPayload, IssueJobResult> } {
  const prefix = `{gws-${randomBytes(4).toString('hex')}}`;
  const { kek } = generateKek();
  const options: IssuerGatewayOptions = {
    redisUrl: shared.server.url,
    prefix,
    host: '127.0.0.1',
    port: 0,
    tls: false,
    namespace: 'fsm-system',
    kek,
    logger: silentLogger,
    app: {
      tokens: GRANTS,
      rateLimitPerSec: 1000,
      bodyLimit: '64kb',
      issueTimeoutMs: 10_000,
      batchWindowMs: 2,
      batchMax: 64,
      batchPipelineDepth: 2,
      defaultValidityMs: 3600_000,
      trustDomain: 'cluster.local',
    },
  };
  return {
    options,
    startWorker() {
      const conn = createRedisConnection(shared.server.url, { role: 'worker' });
      extra.push(conn);
      const fake = new FakeIssueClient(shared.ca, new Inventory(shared.redis, { prefix }), kek);
      return createIssueWorker(conn, async (job) => ({ version: 1, results: await fake.issueBatch(job.data.requests, { timeoutMs: 1 }) }) as IssueJobResult, {}, prefix);
    },
  };
}

describe('startIssuerGateway', () => {
  it('is ready only while a ca-service heartbeat is live, and issues through the real queue', async () => {
    const { options, startWorker } = setup();
    const gw = await startIssuerGateway(options);
    const notReady = await fetch(`${gw.url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(((await notReady.json()) as { checks: Record<string, string> }).checks).toMatchObject({ redis: 'ok', queue: 'ok', 'ca-service': 'no live ca-service heartbeat' });

    const beat = publishHeartbeat(shared.redis, { role: 'ca-service', instanceId: 'ca-1', ttlMs: 5_000, prefix: options.prefix });
    await beat.ready;
    const worker = startWorker();
    expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);

    const res = await fetch(`${gw.url}/v1/certificates`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKENS.bookstore}`, 'content-type': 'application/json' },
      body: JSON.stringify({ commonName: 'q.bookstore.cluster.local' }),
    });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { privateKey?: string }).privateKey).toMatch(/PRIVATE KEY/);

    // An open SSE stream must not hold up shutdown: it never ends by itself, so close() would hang.
    const sse = await fetch(`${gw.url}/v1/events`, { headers: { authorization: `Bearer ${TOKENS.reader}` } });
    expect(sse.status).toBe(200);
    await gw.close();
    await worker.close();
    await beat.stop();
  });

  it('serves HTTPS with a mesh-issued certificate for issuer-gateway.<namespace>.svc that clients verify', async () => {
    const { options, startWorker } = setup();
    const worker = startWorker();
    const gw = await startIssuerGateway({ ...options, tls: true });
    expect(gw.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const port = Number(new URL(gw.url).port);
    const peer = await new Promise<tls.PeerCertificate>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: shared.ca.certificatePem }, () => {
        const cert = socket.getPeerCertificate();
        socket.end();
        if (!socket.authorized) reject(new Error(String(socket.authorizationError)));
        else resolve(cert);
      });
      socket.on('error', reject);
    });
    expect(peer.subject.CN).toBe('issuer-gateway.fsm-system.svc');
    expect(peer.subjectaltname).toContain('DNS:issuer-gateway.fsm-system.svc');
    expect(peer.subjectaltname).toContain('IP Address:127.0.0.1');
    const lifetimeDays = (Date.parse(peer.valid_to) - Date.parse(peer.valid_from)) / 86_400_000;
    expect(lifetimeDays).toBeGreaterThan(3600);
    await gw.close();
    await worker.close();
  });
});
