// The gateway's half of audit records stored by the ca-service's commit: against a real Redis and
// a real BullMQ worker standing in for the ca-service (it stores the record as the commit script
// does, under the id the item names, and says so with `auditId`, or, as an older ca-service, not).
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '@fsm-certs/api';
import {
  AuditLog,
  certificateAuditRecord,
  createIssueQueue,
  createIssueWorker,
  createRedisConnection,
  type CertificateRecord,
  type IssueItem,
  type IssueItemResult,
  type IssueJobPayload,
  type IssueJobResult,
} from '@fsm-certs/queue';
import { usePrivateRedis } from '@fsm-certs/queue/testing';
import { BullMqIssueClient } from '../issue/bullmq-issue-client.js';
import { Auditor } from './auditor.js';

const db = usePrivateRedis();
const connections: Redis[] = [];
const RETENTION_MS = 720 * 3600_000;

function conn(role: 'client' | 'worker'): Redis {
  const c = createRedisConnection(db.url, { role });
  c.on('error', () => undefined);
  connections.push(c);
  return c;
}

afterAll(() => {
  for (const c of connections) c.disconnect();
});

function certificateFor(item: IssueItem): CertificateRecord {
  const now = Date.now();
  const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
  return {
    commonName: item.commonName,
    serialNumber: randomBytes(16).toString('hex'),
    notBefore: new Date(now).toISOString(),
    notAfter: new Date(now + item.validityMs).toISOString(),
    renewAt: new Date(now + (item.validityMs * 2) / 3).toISOString(),
    certificatePem: pem,
    chainPem: [],
    issuingCaPem: pem,
    trustedCasPem: [pem],
    issuerId: 'ab'.repeat(32),
    provider: 'tresor',
    keyAlgorithm: item.keyAlgorithm,
    mode: 'server-key',
    dnsNames: [item.commonName],
    uris: [],
    ipAddresses: [],
    validityMs: item.validityMs,
    issuedAt: new Date(now).toISOString(),
    warnings: [],
  };
}

/** A gateway's audit trail, issue client and auditor over a stand-in ca-service. */
async function setup(commitStoresAudit: boolean, options: { logsInfo?: boolean } = {}) {
  const prefix = `{gwa-${randomBytes(4).toString('hex')}}`;
  const trail = new AuditLog(conn('client'), { prefix, retentionMs: RETENTION_MS });
  const writes: AuditRecord[][] = [];
  const lines: Array<{ obj: object; msg: string | undefined }> = [];
  const logsInfo = options.logsInfo ?? true;
  // Like pino at LOG_LEVEL=warn when logsInfo is false: says so, and drops info lines.
  const logger = {
    debug: () => undefined,
    info: (obj: object, msg?: string) => void (logsInfo ? lines.push({ obj, msg }) : undefined),
    warn: () => undefined,
    error: () => undefined,
    isLevelEnabled: (level: string) => level !== 'debug' && (logsInfo || level !== 'info'),
  };
  let infoCalls = 0;
  const counted = { ...logger, info: (obj: object, msg?: string) => { infoCalls++; logger.info(obj, msg); } };
  const auditor = new Auditor(
    {
      appendMany: async (records) => {
        writes.push([...records]);
        await trail.appendMany(records);
      },
    },
    counted,
    Date.now,
  );
  const queue = createIssueQueue(conn('client'), prefix);
  const worker = createIssueWorker(
    conn('worker'),
    async (job) => {
      const results: IssueItemResult[] = [];
      for (const item of job.data.requests) {
        const certificate = certificateFor(item);
        if (commitStoresAudit && item.audit !== undefined) {
          await trail.append(certificateAuditRecord(item.audit, 'issued', 201, certificate));
          results.push({ requestId: item.requestId, ok: true, certificate, auditId: item.audit.id });
        } else results.push({ requestId: item.requestId, ok: true, certificate });
      }
      return { version: 1, results } satisfies IssueJobResult;
    },
    { concurrency: 1 },
    prefix,
  );
  const client = new BullMqIssueClient({ queue, eventsConnection: conn('worker'), enqueueTimeoutMs: 2_000 });
  await client.start();
  const request = (): { req: IncomingMessage; res: ServerResponse } => {
    const req = new IncomingMessage(new Socket());
    req.headers['x-request-id'] = `req-${randomUUID()}`;
    return { req, res: new ServerResponse(req) };
  };
  return {
    trail,
    writes,
    lines,
    infoCalls: () => infoCalls,
    auditor,
    client,
    request,
    async issue(item: IssueItem): Promise<CertificateRecord> {
      const [result] = await client.issueBatch([item], { timeoutMs: 10_000 });
      if (result?.ok !== true) throw new Error('not issued');
      return result.certificate;
    },
    async close() {
      await worker.close();
      await client.close();
      await queue.close();
    },
  };
}

function item(commonName: string): IssueItem {
  return { requestId: randomUUID(), commonName, dnsNames: [], uris: [], ipAddresses: [], validityMs: 3_600_000, keyAlgorithm: 'ecdsa-p256', reason: 'request' };
}

describe('audit records the ca-service stored with the certificate', () => {
  it('answers without writing the record itself and logs exactly the record in the trail', async () => {
    const s = await setup(true);
    try {
      const { req, res } = s.request();
      const context = s.auditor.issueContext(req);
      expect(context).toBeDefined();
      if (context === undefined) return;
      const certificate = await s.issue({ ...item('committed.bookstore.cluster.local'), audit: context });
      await s.auditor.granted(req, res, 'issueCertificate', 'issued', { certificate }, context);
      expect(s.writes).toEqual([]);
      const { items } = await s.trail.query({ limit: 100 });
      expect(items).toHaveLength(1);
      expect(items[0]).toMatchObject({ id: context.id, requestId: req.headers['x-request-id'], outcome: 'issued', status: 201 });
      expect(s.lines).toEqual([{ obj: { audit: items[0] }, msg: 'audit: issued' }]);
    } finally {
      await s.close();
    }
  });

  it('with info lines off (LOG_LEVEL=warn), answers from the stored record without building a log line for it', async () => {
    const s = await setup(true, { logsInfo: false });
    try {
      const { req, res } = s.request();
      const context = s.auditor.issueContext(req);
      if (context === undefined) throw new Error('no audit context');
      const certificate = await s.issue({ ...item('quiet.bookstore.cluster.local'), audit: context });
      await s.auditor.granted(req, res, 'issueCertificate', 'issued', { certificate }, context);
      expect(s.writes).toEqual([]);
      expect(s.infoCalls()).toBe(0);
      const { items } = await s.trail.query({ limit: 100 });
      expect(items.map((r) => [r.id, r.outcome])).toEqual([[context.id, 'issued']]);
    } finally {
      await s.close();
    }
  });

  it('writes the record itself, under the id it named, when the ca-service did not store it (an older one)', async () => {
    const s = await setup(false);
    try {
      const { req, res } = s.request();
      const context = s.auditor.issueContext(req);
      if (context === undefined) throw new Error('no audit context');
      const certificate = await s.issue({ ...item('older.bookstore.cluster.local'), audit: context });
      await s.auditor.granted(req, res, 'issueCertificate', 'issued', { certificate }, context);
      expect(s.writes.flat().map((r) => r.id)).toEqual([context.id]);
      const { items } = await s.trail.query({ limit: 100 });
      expect(items.map((r) => r.id)).toEqual([context.id]);
      expect(s.lines).toEqual([{ obj: { audit: items[0] }, msg: 'audit: issued' }]);
    } finally {
      await s.close();
    }
  });

  it('writes its own record for a second request answered by the same certificate (single flight)', async () => {
    const s = await setup(true);
    try {
      const first = s.request();
      const second = s.request();
      const firstContext = s.auditor.issueContext(first.req);
      const secondContext = s.auditor.issueContext(second.req);
      if (firstContext === undefined || secondContext === undefined) throw new Error('no audit context');
      const certificate = await s.issue({ ...item('shared.bookstore.cluster.local'), audit: firstContext });
      await s.auditor.granted(first.req, first.res, 'issueCertificate', 'issued', { certificate }, firstContext);
      await s.auditor.granted(second.req, second.res, 'issueCertificate', 'issued', { certificate }, secondContext);
      expect(s.writes.flat().map((r) => r.id)).toEqual([secondContext.id]);
      const { items } = await s.trail.query({ limit: 100 });
      expect(items.map((r) => r.requestId).sort()).toEqual([first.req.headers['x-request-id'], second.req.headers['x-request-id']].sort());
    } finally {
      await s.close();
    }
  });
});
