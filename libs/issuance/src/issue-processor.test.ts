// The issue processor's edge: the everyday payload is read without a zod pass (it was ~2 KB of
// garbage per certificate), anything else is decided by the payload's schema, with its words.
import type { Job } from 'bullmq';
import { UnrecoverableError } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Inventory, issueJobPayloadSchema, type IssueJobPayload, type IssueJobResult } from '@fsm-certs/queue';
import type { CertificateIssuer } from './certificate-issuer.js';
import { createIssueProcessor } from './issue-processor.js';
import { PREFIX, carryingRecords, item, memoryLogger, startIssuer, startTestEnv, type TestEnv } from './test-support.test-helpers.js';

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
    expect(carryingRecords(result).results.map((r) => (r.ok ? r.certificate.commonName : r.error.code))).toEqual(['plain-1.bookstore.cluster.local', 'plain-2.bookstore.cluster.local']);
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

  it('names each stored certificate instead of carrying it when asked for v3, reuse, audit ids and failures included', async () => {
    const processor = createIssueProcessor({ issuer, logger: memoryLogger().logger });
    const inventory = new Inventory(env.connect(), { prefix: PREFIX });
    const [earlier] = carryingRecords(await processor(jobOf({ version: 1, requests: [item('named-reused.bookstore.cluster.local')] }))).results;
    const earlierSerial = earlier?.ok === true ? earlier.certificate.serialNumber : 'none';
    const audit = { id: '1764504000000-0a1b2c3d4e5f', operation: 'issueCertificate' as const, caller: 'bench', clientAddress: null, requestId: 'r-1' };
    const fresh = item('named-new.bookstore.cluster.local', { audit });
    const reused = item('named-reused.bookstore.cluster.local');
    const bad = item('named-short.bookstore.cluster.local', { validityMs: 60_000 });
    const result = await processor(jobOf({ version: 1, requests: [fresh, reused, bad], resultVersion: 2, maxResultVersion: 3 }));
    const current = async (name: string): Promise<string | undefined> => (await inventory.get(name))?.serialNumber;
    expect(result).toEqual({
      version: 3,
      results: [
        { requestId: fresh.requestId, ok: true, commonName: fresh.commonName, serialNumber: await current(fresh.commonName), auditId: audit.id },
        { requestId: reused.requestId, ok: true, commonName: reused.commonName, serialNumber: earlierSerial },
        { requestId: bad.requestId, ok: false, error: expect.objectContaining({ httpStatus: 400, retryable: false }) },
      ],
    });
    // Reused, not issued again: the name still holds the earlier certificate.
    expect(await current(reused.commonName)).toBe(earlierSerial);
  });

  it('answers producers that do not ask for v3 as before: v2 for resultVersion 2 (an older gateway), v1 for nothing (the rotation-worker)', async () => {
    const processor = createIssueProcessor({ issuer, logger: memoryLogger().logger });
    const v2 = await processor(jobOf({ version: 1, requests: [item('named-v2.bookstore.cluster.local')], resultVersion: 2 }));
    const v1 = await processor(jobOf({ version: 1, requests: [item('named-v1.bookstore.cluster.local')] }));
    expect(v2).toMatchObject({ version: 2, results: [{ ok: true, certificate: { commonName: 'named-v2.bookstore.cluster.local' } }] });
    expect(v1).toMatchObject({ version: 1, results: [{ ok: true, certificate: { commonName: 'named-v1.bookstore.cluster.local', issuingCaPem: expect.any(String) } }] });
    // A producer of a later release asking for more than this one writes gets this one's latest.
    expect(await processor(jobOf({ version: 1, requests: [item('named-v9.bookstore.cluster.local')], resultVersion: 2, maxResultVersion: 9 }))).toMatchObject({ version: 3 });
  });
});
