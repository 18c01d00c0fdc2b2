// Reply inboxes against a real Redis: what the ca-service pushes reaches the gateway that named
// the inbox, whenever that gateway reads, and an inbox nobody reads goes away by itself.
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '@fsm-certs/testing';
import type { IssueJobResult } from '../contracts/issue-job.js';
import { keyspace } from '../keys.js';
import { usePrivateRedis } from '../testing.test-helpers.js';
import { IssueReplies, IssueReplyInbox } from './issue-replies.js';

const db = usePrivateRedis({ flush: 'each' });
const prefix = '{replies-test}';
const inboxes: IssueReplyInbox[] = [];

afterEach(async () => {
  await Promise.all(inboxes.splice(0).map((inbox) => inbox.close()));
});

function result(message: string): IssueJobResult {
  return { version: 1, results: [{ requestId: randomUUID(), ok: false, error: { code: 'X', message, httpStatus: 400, retryable: false } }] };
}

function open(onError?: (error: unknown) => void): { inbox: IssueReplyInbox; got: Array<[string, unknown]> } {
  const got: Array<[string, unknown]> = [];
  const inbox = new IssueReplyInbox(db.redis, { prefix, blockSeconds: 1, onReply: (jobId, value) => got.push([jobId, value]), ...(onError === undefined ? {} : { onError }) });
  inboxes.push(inbox);
  return { inbox, got };
}

describe('issue replies', () => {
  it('delivers each reply pushed to an inbox to its reader, in the order pushed, with the result as sent', async () => {
    const { inbox, got } = open();
    const replies = new IssueReplies(db.redis, { prefix });
    const first = result('first');
    const second = result('second');
    await replies.send(inbox.id, 'job-1', first);
    await replies.send(inbox.id, 'job-2', second);
    await eventually(async () => (got.length === 2 ? true : undefined), 5_000, 'two replies');
    expect(got).toEqual([
      ['job-1', first],
      ['job-2', second],
    ]);
  });

  it('keeps a reply pushed before anyone reads the inbox, for the reader that comes later', async () => {
    const id = randomUUID();
    const sent = result('early');
    await new IssueReplies(db.redis, { prefix }).send(id, 'job-early', sent);
    const got: Array<[string, unknown]> = [];
    inboxes.push(new IssueReplyInbox(db.redis, { prefix, id, blockSeconds: 1, onReply: (jobId, value) => got.push([jobId, value]) }));
    await eventually(async () => (got.length === 1 ? true : undefined), 5_000, 'the early reply');
    expect(got).toEqual([['job-early', sent]]);
  });

  it('lets an inbox nobody reads expire after the reply TTL', async () => {
    const id = randomUUID();
    await new IssueReplies(db.redis, { prefix, ttlMs: 30_000 }).send(id, 'job-orphan', result('orphan'));
    const ttl = await db.redis.pttl(keyspace(prefix).issueReplies(id));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30_000);
  });

  it('refuses to push to a key that is not an inbox id', async () => {
    await expect(new IssueReplies(db.redis, { prefix }).send('x:*:evil', 'job', result('no'))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await db.redis.keys('*evil*')).toEqual([]);
  });

  it('reports a reply that does not parse and goes on with the next', async () => {
    const errors: unknown[] = [];
    const { inbox, got } = open((error) => errors.push(error));
    await db.redis.lpush(keyspace(prefix).issueReplies(inbox.id), '{not json');
    await new IssueReplies(db.redis, { prefix }).send(inbox.id, 'job-ok', result('ok'));
    await eventually(async () => (got.length === 1 ? true : undefined), 5_000, 'the good reply');
    expect(got.map(([jobId]) => jobId)).toEqual(['job-ok']);
    expect(errors).toHaveLength(1);
  });
});
