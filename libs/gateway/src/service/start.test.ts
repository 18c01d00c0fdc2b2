// The whole gateway process minus signals: real Redis, BullMQ, a stand-in ca-service worker.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
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
import { FakeIssueClient, GRANTS, ManualClock, TOKENS, startSharedRedis, type SharedRedis } from '../testing/harness.test-helpers.js';
import type { RenewalScheduler } from './server-certificate-renewal.js';
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

/** The certificate a real TLS handshake with the gateway presents, verified against the CA. */
function servedCertificate(port: number, ca: string): Promise<tls.PeerCertificate> {
  return new Promise<tls.PeerCertificate>((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca }, () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      if (!socket.authorized) reject(new Error(String(socket.authorizationError)));
      else resolve(cert);
    });
    socket.on('error', reject);
  });
}

/** Serial as the inventory writes it: lowercase hex, no leading zeros. */
function serialOf(cert: tls.PeerCertificate): string {
  return cert.serialNumber.toLowerCase().replace(/^0+/, '');
}

/** Renewal timers the test fires itself: "time has passed" without waiting for it. */
function manualTimers(): { planned: Array<{ fn: () => void; delayMs: number; cancelled: boolean }>; schedule: RenewalScheduler } {
  const planned: Array<{ fn: () => void; delayMs: number; cancelled: boolean }> = [];
  return {
    planned,
    schedule: (fn, delayMs) => {
      const entry = { fn, delayMs, cancelled: false };
      planned.push(entry);
      return { cancel: () => void (entry.cancelled = true) };
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

  it('renews its own HTTPS certificate at its renewAt and serves the new one in new TLS handshakes, without a restart', async () => {
    const { options, startWorker } = setup();
    const worker = startWorker();
    const timers = manualTimers();
    const clock = new ManualClock(Date.now());
    // An hour, as a Vault role's max_ttl or a cert-manager issuer may cap it: far less than the process lives.
    const gw = await startIssuerGateway({ ...options, tls: true, clock, serverCertificate: { validityMs: 3_600_000, schedule: timers.schedule } });
    try {
      const port = Number(new URL(gw.url).port);
      const first = await servedCertificate(port, shared.ca.certificatePem);
      const inventory = new Inventory(shared.redis, { prefix: options.prefix });
      const stored = await inventory.get('issuer-gateway.fsm-system.svc');
      expect(serialOf(first)).toBe(stored?.serialNumber.replace(/^0+/, ''));
      // One renewal is planned, for the certificate's renewAt.
      expect(timers.planned.map((t) => t.delayMs)).toEqual([Date.parse(stored?.renewAt ?? '') - clock.now()]);

      const renewal = gw.serverCertificate;
      if (renewal === undefined) throw new Error('no certificate renewal with tls: true');
      const renewed = once(renewal, 'renewed');
      clock.advance(timers.planned[0]?.delayMs ?? 0);
      timers.planned[0]?.fn();
      await renewed;

      const second = await servedCertificate(port, shared.ca.certificatePem);
      expect(serialOf(second)).not.toBe(serialOf(first));
      expect(serialOf(second)).toBe((await inventory.get('issuer-gateway.fsm-system.svc'))?.serialNumber.replace(/^0+/, ''));
      expect(second.subject.CN).toBe('issuer-gateway.fsm-system.svc');
      // ...and the next renewal is planned for the new certificate.
      expect(timers.planned).toHaveLength(2);
    } finally {
      await gw.close();
      await worker.close();
    }
  });
});
