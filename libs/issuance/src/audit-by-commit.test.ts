// The audit record of an HTTP issue request stored by the ca-service's commit, in the same script
// call as the certificate (issue 15: one round trip less per request), against a real Redis.
import type { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuditLog,
  certificateAuditRecord,
  issueJobPayloadSchema,
  keyspace,
  type IssueAuditContext,
  type IssueItem,
  type IssueJobPayload,
  type IssueJobResult,
} from '@fsm-certs/queue';
import { createIssueProcessor } from './issue-processor.js';
import { PREFIX, carryingRecords, item, memoryLogger, startCaServiceFixture, startIssuer, type CaServiceFixture } from './test-support.test-helpers.js';

const RETENTION_MS = 720 * 3600_000;

function context(over: Partial<IssueAuditContext> = {}): IssueAuditContext {
  return {
    id: AuditLog.newId(Date.now()),
    operation: 'issueCertificate',
    caller: 'bookstore-operator',
    clientAddress: '127.0.0.1',
    requestId: `req-${Math.random().toString(16).slice(2)}`,
    ...over,
  };
}

/** A job as BullMQ hands it to the processor: a first attempt, or one taken over after a crash. */
function jobOf(payload: IssueJobPayload, takenOver: boolean): Job<IssueJobPayload, IssueJobResult> {
  return { id: 'job-1', data: payload, attemptsMade: 0, attemptsStarted: 1, stalledCounter: takenOver ? 1 : 0, opts: { attempts: 5 } } as unknown as Job<IssueJobPayload, IssueJobResult>;
}

describe('audit records stored by the commit', () => {
  let fixture: CaServiceFixture;
  let trail: AuditLog;

  beforeAll(async () => {
    fixture = await startCaServiceFixture('audit-commit');
    trail = new AuditLog(fixture.env.connect(), { prefix: PREFIX, retentionMs: RETENTION_MS });
  });

  afterAll(async () => {
    await fixture.close();
  });

  const recordsOf = async (requestId: string) => (await trail.query({ limit: 1000 })).items.filter((r) => r.requestId === requestId);

  it('stores the record of an issued item with its certificate and names it in the result', async () => {
    const audit = context();
    const issued: IssueItem = { ...item('audit-1.bookstore.cluster.local', { dnsNames: ['alias.bookstore.cluster.local'] }), audit };
    const job = await fixture.queue.add('issue-batch', { version: 1, requests: [issued] });
    const result = await job.waitUntilFinished(fixture.events, 20_000);
    const [answer] = carryingRecords(result).results;
    expect(answer?.ok).toBe(true);
    if (answer?.ok !== true) return;
    expect(answer.auditId).toBe(audit.id);
    const records = await recordsOf(audit.requestId);
    expect(records).toEqual([certificateAuditRecord(audit, 'issued', 201, answer.certificate)]);
    expect(records[0]).toMatchObject({
      outcome: 'issued',
      operation: 'issueCertificate',
      caller: 'bookstore-operator',
      clientAddress: '127.0.0.1',
      commonName: 'audit-1.bookstore.cluster.local',
      names: ['audit-1.bookstore.cluster.local', 'alias.bookstore.cluster.local'],
      serialNumber: answer.certificate.serialNumber,
      status: 201,
      code: null,
    });
  });

  it('names the stored record in compact (v2) results too', async () => {
    const audit = context();
    const job = await fixture.queue.add('issue-batch', { version: 1, requests: [{ ...item('audit-v2.bookstore.cluster.local'), audit }], resultVersion: 2 });
    const result = await job.waitUntilFinished(fixture.events, 20_000);
    expect(result.version).toBe(2);
    expect(result.results[0]).toMatchObject({ ok: true, auditId: audit.id });
    expect((await recordsOf(audit.requestId)).map((r) => r.id)).toEqual([audit.id]);
  });

  it('stores no record and names none when the item is answered by a certificate issued before (reuse)', async () => {
    const first = await fixture.queue.add('issue-batch', { version: 1, requests: [item('audit-reuse.bookstore.cluster.local')] });
    await first.waitUntilFinished(fixture.events, 20_000);
    const audit = context();
    const again = await fixture.queue.add('issue-batch', { version: 1, requests: [{ ...item('audit-reuse.bookstore.cluster.local'), audit }] });
    const result = await again.waitUntilFinished(fixture.events, 20_000);
    expect(result.results[0]).toMatchObject({ ok: true });
    expect(result.results[0]).not.toHaveProperty('auditId');
    expect(await recordsOf(audit.requestId)).toEqual([]);
  });

  it('keeps one record when a ca-service dies between the commit and moveToFinished and the job is answered again', async () => {
    const { issuer } = await startIssuer(fixture.env);
    const processor = createIssueProcessor({ issuer, logger: memoryLogger().logger });
    const audit = context();
    const payload: IssueJobPayload = { version: 1, requests: [{ ...item('audit-crash.bookstore.cluster.local'), audit }] };
    // The first attempt commits (certificate + record) and is never finished: its process died.
    const first = await processor(jobOf(payload, false));
    expect(first.results[0]).toMatchObject({ ok: true, auditId: audit.id });
    // Taken over: the item is answered from the inventory, without claiming the record.
    const second = await processor(jobOf(payload, true));
    const [answer] = carryingRecords(second).results;
    expect(answer?.ok).toBe(true);
    if (answer?.ok !== true) return;
    expect(answer).not.toHaveProperty('auditId');
    // So the gateway stores the record itself, under the id it chose: the same record, once.
    await trail.append(certificateAuditRecord(audit, 'issued', 201, answer.certificate));
    const records = await recordsOf(audit.requestId);
    expect(records).toHaveLength(1);
    expect(records[0]?.serialNumber).toBe(answer.certificate.serialNumber);
  });

  it('drops records past the retention when the commit stores one, as every writer of the trail does', async () => {
    const longAgo = Date.now() - RETENTION_MS - 3600_000;
    const expired = AuditLog.caRecord({ atMs: longAgo, outcome: 'trust-bundle-changed', operation: 'trustBundle', provider: 'tresor', issuerId: 'expired-check' });
    // Written as it was at the time: a log whose clock says then keeps it.
    await new AuditLog(fixture.env.connect(), { prefix: PREFIX, retentionMs: RETENTION_MS, now: () => longAgo }).append(expired);
    // Read straight from Redis: queries already hide records past the retention.
    const redis = fixture.env.connect();
    const keys = keyspace(PREFIX);
    const stored = async (id: string) => [await redis.hexists(keys.auditRecords, id), await redis.zscore(keys.auditIndex, id)];
    expect(await stored(expired.id)).toEqual([1, '0']);

    const audit = context();
    const job = await fixture.queue.add('issue-batch', { version: 1, requests: [{ ...item('audit-trim.bookstore.cluster.local'), audit }] });
    const [answer] = (await job.waitUntilFinished(fixture.events, 20_000)).results;
    expect(answer?.ok === true ? answer.auditId : undefined).toBe(audit.id);
    expect(await stored(audit.id)).toEqual([1, '0']);
    expect(await stored(expired.id)).toEqual([0, null]);
    redis.disconnect();
  });

  it('is ignored by a payload schema that does not know it, as an older ca-service strips unknown fields', () => {
    const parsed = issueJobPayloadSchema.parse({ version: 1, requests: [{ ...item('strip.bookstore.cluster.local'), fromTheFuture: { x: 1 } }] });
    expect(parsed.requests[0]).not.toHaveProperty('fromTheFuture');
  });
});
