// The issue processor's edge: the everyday payload is read without a zod pass (it was ~2 KB of
// garbage per certificate), anything else is decided by the payload's schema, with its words.
import type { Job } from 'bullmq';
import { UnrecoverableError } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { issueJobPayloadSchema, type IssueJobPayload, type IssueJobResult } from '@fsm-certs/queue';
import type { CertificateIssuer } from './certificate-issuer.js';
import { createIssueProcessor } from './issue-processor.js';
import { item, memoryLogger, startIssuer, startTestEnv, type TestEnv } from './test-support.test-helpers.js';

/** A first attempt, as BullMQ hands a job to the processor. */
function jobOf(data: unknown): Job<IssueJobPayload, IssueJobResult> {
  return { id: 'job-1', data, attemptsMade: 0, attemptsStarted: 1, stalledCounter: 0, opts: { attempts: 5 } } as unknown as Job<IssueJobPayload, IssueJobResult>;
}

describe('the issue processor reading its payload', () => {
  let env: TestEnv;
  let issuer: CertificateIssuer;

  beforeAll(async () => {
    env = await startTestEnv();
    issuer = (await startIssuer(env)).issuer;
  });
  afterAll(async () => {
    await env?.close();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('issues an everyday batch without a zod parse of the payload', async () => {
    const parse = vi.spyOn(issueJobPayloadSchema, 'safeParse');
    const processor = createIssueProcessor({ issuer, logger: memoryLogger().logger });
    const requests = [item('plain-1.bookstore.cluster.local'), item('plain-2.bookstore.cluster.local', { dnsNames: ['alias.bookstore.cluster.local'] })];
    const result = await processor(jobOf({ version: 1, requests }));
    expect(result.results.map((r) => (r.ok ? r.certificate.commonName : r.error.code))).toEqual(['plain-1.bookstore.cluster.local', 'plain-2.bookstore.cluster.local']);
    expect(parse).not.toHaveBeenCalled();
  });

  it('still issues for a payload carrying a field it does not know, as the schema strips it', async () => {
    const processor = createIssueProcessor({ issuer, logger: memoryLogger().logger });
    const result = await processor(jobOf({ version: 1, requests: [{ ...item('future.bookstore.cluster.local'), fromTheFuture: 1 }], alsoFromTheFuture: true }));
    expect(result.results).toHaveLength(1);
    expect(result.results[0]).toMatchObject({ ok: true, certificate: { commonName: 'future.bookstore.cluster.local' } });
  });

  it('refuses a bad payload as unrecoverable, naming the field as the schema words it', async () => {
    const processor = createIssueProcessor({ issuer, logger: memoryLogger().logger });
    const bad = { version: 1, requests: [item('bad.bookstore.cluster.local', { validityMs: 0 })] };
    const schemaMessage = issueJobPayloadSchema.safeParse(bad).error?.issues[0]?.message ?? '';
    expect(schemaMessage).not.toBe('');
    const refusal = processor(jobOf(bad));
    await expect(refusal).rejects.toBeInstanceOf(UnrecoverableError);
    await expect(refusal).rejects.toThrow(`requests.0.validityMs: ${schemaMessage}`);
  });
});
