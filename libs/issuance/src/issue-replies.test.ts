// The ca-service's replies (issue 15): a job that names its producer's inbox gets its result
// pushed there, the same result BullMQ stores on the job, and only once its certificate is in
// the inventory. A job that names none is answered on the job alone, as before.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Inventory, IssueReplyInbox, type IssueJobResult } from '@fsm-certs/queue';
import { eventually } from '@fsm-certs/testing';
import { PREFIX, item, startCaServiceFixture, type CaServiceFixture } from './test-support.test-helpers.js';

describe('ca-service replies to the inbox an issue job names', () => {
  let fixture: CaServiceFixture;
  let inbox: IssueReplyInbox;
  const replies = new Map<string, unknown>();
  /** Whether the reply's certificate was in the inventory when the reply was read. */
  const storedWhenReplied = new Map<string, Promise<boolean>>();
  let inventory: Inventory;

  beforeAll(async () => {
    fixture = await startCaServiceFixture('ca-replies-1', { concurrency: 2 });
    inventory = new Inventory(fixture.env.connect(), { prefix: PREFIX });
    inbox = new IssueReplyInbox(fixture.env.connect(), {
      prefix: PREFIX,
      onReply: (jobId, result) => {
        replies.set(jobId, result);
        const first = (result as IssueJobResult).results[0];
        storedWhenReplied.set(jobId, first?.ok === true ? inventory.get(first.certificate.commonName).then((r) => r?.serialNumber === first.certificate.serialNumber) : Promise.resolve(false));
      },
    });
  });

  afterAll(async () => {
    await inbox.close();
    await fixture.close();
  });

  it('pushes the result to the inbox, equal to the result stored on the job, with its certificate already stored', async () => {
    const request = item('replied.ns.svc.cluster.local');
    const job = await fixture.queue.add('issue-batch', { version: 1, requests: [request], replyTo: inbox.id });
    const stored = await job.waitUntilFinished(fixture.events, 30_000);
    const jobId = job.id ?? '';
    const reply = await eventually(async () => replies.get(jobId), 10_000, 'the reply');
    expect(reply).toEqual(stored);
    expect(stored.results[0]).toMatchObject({ requestId: request.requestId, ok: true });
    expect(await storedWhenReplied.get(jobId)).toBe(true);
  });

  it('sends no reply for a job that names no inbox', async () => {
    const job = await fixture.queue.add('issue-batch', { version: 1, requests: [item('unreplied.ns.svc.cluster.local')] });
    await job.waitUntilFinished(fixture.events, 30_000);
    // A later job's reply arrives: had the first one been replied, it would have come before it.
    const later = await fixture.queue.add('issue-batch', { version: 1, requests: [item('later.ns.svc.cluster.local')], replyTo: inbox.id });
    await later.waitUntilFinished(fixture.events, 30_000);
    await eventually(async () => replies.get(later.id ?? ''), 10_000, 'the later reply');
    expect(replies.has(job.id ?? '')).toBe(false);
  });
});
