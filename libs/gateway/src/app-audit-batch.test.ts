// The audit records of a batch's requests are written together, in one call per job (or fewer), and every
// one of them is in Redis before any request of that job is answered.
import type { AuditRecord } from '@fsm-certs/api';
import { describe, expect, it } from 'vitest';
import { TOKENS, harnessPerTest } from './testing/harness.test-helpers.js';

const ctx = harnessPerTest();

const sortedNames = (names: readonly string[]): string => [...names].sort().join(',');

describe('the audit trail of batched requests', () => {
  it('writes the records of one job in one call, with no other call for the same job, before any answer of that job is sent', async () => {
    const events: string[] = [];
    const writes: string[][] = [];
    const h = await ctx.restart({
      audit: (trail) => ({
        query: (filter) => trail.query(filter),
        async appendMany(records: readonly AuditRecord[]) {
          await trail.appendMany(records);
          const names = records.map((r) => r.commonName ?? '');
          writes.push(names);
          for (const name of names) events.push(`written ${name}`);
        },
      }),
      observe: (req, res) => {
        const id = String(req.headers['x-request-id']);
        res.end = new Proxy(res.end, {
          apply(target, self, args) {
            events.push(`answered ${id}`);
            return Reflect.apply(target, self, args);
          },
        });
      },
    });
    const release = h.issueClient.hold();
    const names = Array.from({ length: 12 }, (_, i) => `batch-${i}.bookstore.cluster.local`);
    const answers = names.map((name) => h.call('POST', '/v1/certificates', { token: TOKENS.bookstore, body: { commonName: name }, headers: { 'x-request-id': name } }));
    await h.issueClient.whenItems(names.length);
    release();
    const statuses = await Promise.all(
      answers.map(async (answer) => {
        const res = await answer;
        await res.arrayBuffer();
        return res.status;
      }),
    );
    expect(statuses).toEqual(names.map(() => 201));

    const jobs = h.issueClient.batches.map((batch) => batch.map((item) => item.commonName));
    expect(jobs.length).toBeLessThan(names.length);
    // Each job's records go in one write (jobs answered together may share it), each record once.
    expect(writes.length).toBeLessThanOrEqual(jobs.length);
    expect(sortedNames(writes.flat())).toBe(sortedNames(names));
    for (const job of jobs) expect(writes.filter((write) => job.some((name) => write.includes(name)))).toHaveLength(1);
    for (const write of writes) {
      const lastWritten = Math.max(...write.map((name) => events.indexOf(`written ${name}`)));
      const firstAnswered = Math.min(...write.map((name) => events.indexOf(`answered ${name}`)));
      expect(firstAnswered).toBeGreaterThan(lastWritten);
    }
  });

  it('answers every request of a job 503 when the job\'s records cannot be written, and sends no certificate', async () => {
    const h = await ctx.restart({
      audit: (trail) => ({
        query: (filter) => trail.query(filter),
        appendMany: () => Promise.reject(new Error('READONLY You can\'t write against a read only replica.')),
      }),
    });
    const release = h.issueClient.hold();
    const names = Array.from({ length: 4 }, (_, i) => `lost-${i}.bookstore.cluster.local`);
    const answers = names.map((name) => h.call('POST', '/v1/certificates', { token: TOKENS.bookstore, body: { commonName: name } }));
    await h.issueClient.whenItems(names.length);
    release();
    const results = await Promise.all(
      answers.map(async (answer) => {
        const res = await answer;
        return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.text() };
      }),
    );
    for (const result of results) {
      expect(result.status).toBe(503);
      expect(result.retryAfter).toBe('2');
      expect(result.body).not.toContain('CERTIFICATE');
    }
  });

  it('answers 503 and keeps serving when the audit trail throws instead of rejecting', async () => {
    let fail = true;
    const h = await ctx.restart({
      audit: (trail) => ({
        query: (filter) => trail.query(filter),
        appendMany(records: readonly AuditRecord[]) {
          if (fail) throw new Error('trail unavailable');
          return trail.appendMany(records);
        },
      }),
    });
    const refused = await h.call('POST', '/v1/certificates', { token: TOKENS.bookstore, body: { commonName: 'thrown.bookstore.cluster.local' } });
    expect(refused.status).toBe(503);
    await refused.arrayBuffer();
    fail = false;
    const again = await h.call('POST', '/v1/certificates', { token: TOKENS.bookstore, body: { commonName: 'thrown.bookstore.cluster.local' } });
    expect(again.status).toBe(201);
    await again.arrayBuffer();
  });
});
