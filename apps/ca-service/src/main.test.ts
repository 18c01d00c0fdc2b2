// The ca-service as a process: crash in the middle of a batch (kill -9) and graceful SIGTERM.
// Jobs go in through the issue queue exactly as the gateway puts them there.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EventStream, Inventory, certEventSchema, type CertEvent, type IssueItem, type IssueJobResult } from '@fsm-certs/queue';
import type { AppProcess } from '@fsm-certs/stack';
import { opensslVerify } from '@fsm-certs/testing';
import { caServiceFixture, issueItem } from './ca-service-fixture.test-helpers.js';

const PREFIX = '{fsm-ca-app-test}';

function item(commonName: string, keyAlgorithm: IssueItem['keyAlgorithm'] = 'rsa-2048'): IssueItem {
  return issueItem(commonName, { keyAlgorithm });
}

async function allEvents(redis: Redis): Promise<CertEvent[]> {
  const key = new EventStream(redis, { prefix: PREFIX }).key;
  const entries = await redis.xrange(key, '-', '+');
  return entries.map(([, fields]) => certEventSchema.parse(JSON.parse(fields[fields.indexOf('event') + 1] ?? 'null')));
}

describe('ca-service process', () => {
  const ca = caServiceFixture(PREFIX);
  let inventory: Inventory;
  let app: AppProcess | undefined;

  beforeAll(() => {
    inventory = new Inventory(ca.redis, { prefix: PREFIX });
  });

  function startApp(overrides: NodeJS.ProcessEnv = {}): Promise<AppProcess> {
    return ca.start({ CA_SERVICE_CONCURRENCY: '2', ...overrides });
  }

  /** Resolves with the first announcement `matches` accepts among those published after `afterId`. */
  async function firstEvent(afterId: string, matches: (event: CertEvent) => boolean): Promise<CertEvent> {
    const stop = new AbortController();
    try {
      for await (const { event } of new EventStream(ca.redis, { prefix: PREFIX }).subscribe({ fromId: afterId, signal: stop.signal })) {
        if (matches(event)) return event;
      }
      throw new Error('the event stream ended');
    } finally {
      stop.abort();
    }
  }

  async function lastEventId(): Promise<string> {
    const [last] = await ca.redis.xrevrange(new EventStream(ca.redis, { prefix: PREFIX }).key, '+', '-', 'COUNT', 1);
    return last?.[0] ?? '0';
  }

  async function storedOf(names: readonly string[]): Promise<number> {
    const records = await Promise.all(names.map((n) => inventory.get(n)));
    return records.filter((r) => r !== undefined).length;
  }

  it('after kill -9 in the middle of a batch, a restarted ca-service completes it: one cert per request, none twice', async () => {
    // A short job lock, so the restarted ca-service takes the dead one's job over quickly.
    app = await startApp({ CA_SERVICE_LOCK_DURATION: '2s', CA_SERVICE_STALLED_INTERVAL: '1s' });
    // Over 32 EC items (at most 32 start per slice, each slice committed on its own) and then RSA
    // ones: the first commit holds EC certificates only, while the last waits for RSA keys that
    // take far longer to make than this test takes to react to the first announcement.
    const names = Array.from({ length: 36 }, (_, i) => `crash-${i}.cluster.local`);
    const requests = names.map((n, i) => item(n, i < 32 ? 'ecdsa-p256' : 'rsa-2048'));
    const from = await lastEventId();
    const job = await ca.queue.add('issue-batch', { version: 1, requests });
    await firstEvent(from, (e) => e.kind === 'issued' && names.includes(e.commonName));
    // Frozen on the spot, so what it had done is what it will have done when killed.
    app.signal('SIGSTOP');
    const stored = await storedOf(names);
    expect(stored).toBeGreaterThan(0);
    expect(stored).toBeLessThan(names.length);
    expect(await job.getState()).toBe('active');
    await app.kill();

    app.restart();
    const result: IssueJobResult = await job.waitUntilFinished(ca.events, 60_000);
    const after = await ca.queue.getJob(String(job.id));
    expect((after?.stalledCounter ?? 0) + (after?.attemptsStarted ?? 0)).toBeGreaterThan(1);

    const bundle = await inventory.getTrustBundle();
    const root = bundle?.trustedCasPem[0] ?? '';
    // This producer does not ask for v3: every record comes with the result.
    if (result.version === 3) throw new Error('expected a result carrying its records, got v3');
    expect(result.results).toHaveLength(names.length);
    for (const r of result.results) {
      expect(r.ok).toBe(true);
      if (!r.ok) continue;
      expect((await inventory.get(r.certificate.commonName))?.serialNumber).toBe(r.certificate.serialNumber);
      expect(opensslVerify(r.certificate.certificatePem, root).ok).toBe(true);
    }
    const issued = (await allEvents(ca.redis)).filter((e) => e.kind === 'issued' && names.includes(e.commonName));
    expect(issued).toHaveLength(names.length);
    expect(new Set(issued.map((e) => (e.kind === 'issued' ? e.commonName : ''))).size).toBe(names.length);
    const serials = new Set(result.results.map((r) => (r.ok ? r.certificate.serialNumber : '')));
    expect(issued.every((e) => e.kind === 'issued' && serials.has(e.serialNumber))).toBe(true);
  }, 120_000);

  describe('on SIGTERM', () => {
    // Start-up is the fixture, with its own budget (the ready line); the test is the shutdown.
    // The shutdown budget is not what this test is about (libs/runtime tests it on a fake clock): on
    // a loaded machine the job's RSA keys can take longer than the default 25 s, and the budget would
    // then rightly cancel the job, so here it is set far beyond the test's own timeout.
    beforeEach(async () => {
      app = await startApp({ WORKER_SHUTDOWN_TIMEOUT: '10m' });
    });

    it('finishes the job in hand, then exits 0', async () => {
      if (app === undefined) throw new Error('the ca-service did not start');
      const running = app;
      // RSA keys: the job lasts long enough to still be in hand when SIGSTOP freezes the service.
      const requests = Array.from({ length: 6 }, (_, i) => item(`term-${i}.cluster.local`));
      const jobId = randomUUID();
      const taken = new Promise<void>((resolve) => {
        const onActive = (args: { jobId: string }): void => {
          if (args.jobId !== jobId) return;
          ca.events.off('active', onActive);
          resolve();
        };
        ca.events.on('active', onActive);
      });
      const job = await ca.queue.add('issue-batch', { version: 1, requests }, { jobId });
      // The ca-service reports it took the job.
      await taken;
      // Frozen while it holds the job, so SIGTERM is sure to find it in hand.
      running.signal('SIGSTOP');
      expect(await job.getState()).toBe('active');
      running.signal('SIGTERM');
      running.signal('SIGCONT');
      const exit = await running.exited();
      if ((await job.getState()) !== 'completed') console.log(running.recentOutput.join('\n'));
      expect(exit).toBe(0);
      expect(await job.getState()).toBe('completed');
      const done = await ca.queue.getJob(String(job.id));
      expect(done?.returnvalue?.results.every((r) => r.ok)).toBe(true);
      expect(running.recentOutput.some((l) => l.includes('stopped cleanly'))).toBe(true);
      // Keys never reach the logs, neither clear nor sealed.
      expect(running.recentOutput.join('\n')).not.toMatch(/PRIVATE KEY|"v[12]\.[A-Za-z0-9_-]{8,}\./);
    }, 60_000);
  });
});
