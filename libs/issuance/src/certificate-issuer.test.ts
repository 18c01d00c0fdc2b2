// The crash window between "stored" and "announced": a retried attempt closes it, a first
// attempt never pays for looking.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStream } from '@fsm-certs/queue';
import { announcementLog } from './announced.js';
import type { CertificateIssuer } from './certificate-issuer.js';
import { PREFIX, item, readAllEvents, startIssuer, startTestEnv, type TestEnv } from './test-support.test-helpers.js';

describe('CertificateIssuer after a crash between storing and announcing', () => {
  let env: TestEnv;
  let issuer: CertificateIssuer;
  let events: EventStream;
  /** The announcement log's clock: it reuses one scan of the stream for a short while. */
  let now = Date.parse('2026-01-01T00:00:00Z');

  beforeAll(async () => {
    env = await startTestEnv();
    const redis = env.connect();
    const announcements = announcementLog(redis, new EventStream(redis, { prefix: PREFIX }).key, { now: () => now });
    ({ issuer, events } = await startIssuer(env, { announcements }));
  });
  afterAll(async () => {
    await env?.close();
  });

  async function dropAnnouncementsOf(serialNumber: string): Promise<void> {
    const redis = env.connect();
    for (const [id, fields] of await redis.xrange(events.key, '-', '+')) {
      if (fields.join(' ').includes(serialNumber)) await redis.xdel(events.key, id);
    }
  }

  it('announces the stored certificate on a retry, once, and returns it unchanged', async () => {
    const req = item('crashed-before-publish.cluster.local');
    const first = await issuer.handleItem(req, { mayBeRetry: false });
    expect(first.kind).toBe('issued');
    await dropAnnouncementsOf(first.record.serialNumber); // the crash

    const retry = await issuer.handleItem(req, { mayBeRetry: true });
    const again = await issuer.handleItem(req, { mayBeRetry: true });
    expect(retry).toMatchObject({ kind: 'remembered', record: { serialNumber: first.record.serialNumber } });
    expect(again.record.serialNumber).toBe(first.record.serialNumber);
    now += 600; // past the lookup's reuse window: the next one scans the stream afresh
    await issuer.handleItem(req, { mayBeRetry: true });
    const issued = (await readAllEvents(env.connect())).filter((e) => e.kind === 'issued' && e.serialNumber === first.record.serialNumber);
    expect(issued).toHaveLength(1);
  });

  it('does not look for (or repeat) announcements on a first attempt', async () => {
    const req = item('first-attempt.cluster.local');
    const first = await issuer.handleItem(req, { mayBeRetry: false });
    await dropAnnouncementsOf(first.record.serialNumber);
    await issuer.handleItem(req, { mayBeRetry: false });
    const issued = (await readAllEvents(env.connect())).filter((e) => e.kind === 'issued' && e.serialNumber === first.record.serialNumber);
    expect(issued).toHaveLength(0);
  });
});
