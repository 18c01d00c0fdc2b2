// The announcement log a retried attempt consults: it tells announced serials from the stream
// itself, and keeps in memory only what a reused scan of the stream could miss, not every serial
// the process ever issued.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStream } from '@fsm-certs/queue';
import type { Redis } from 'ioredis';
import { announcementLog } from './announced.js';
import { PREFIX, startTestEnv, type TestEnv } from './test-support.test-helpers.js';

describe('announcement log', () => {
  let env: TestEnv;
  let redis: Redis;
  let stream: EventStream;
  let now = Date.parse('2026-01-01T00:00:00Z');
  const clock = { now: () => now };
  let serials = 0;

  async function announce(log: ReturnType<typeof announcementLog>): Promise<string> {
    const serialNumber = (serials += 1).toString(16).padStart(8, '0');
    await stream.publish({ version: 1, kind: 'issued', at: new Date(now).toISOString(), commonName: `s${serials}.cluster.local`, serialNumber, notAfter: new Date(now + 86_400_000).toISOString() });
    log.noteAnnounced(serialNumber);
    return serialNumber;
  }

  beforeAll(async () => {
    env = await startTestEnv();
    redis = env.connect();
    stream = new EventStream(redis, { prefix: PREFIX });
  });
  afterAll(async () => {
    await env?.close();
  });

  it('holds no serial in memory for announcements made while no scan is being reused, and still finds them', async () => {
    const log = announcementLog(redis, stream.key, clock);
    const announced: string[] = [];
    for (let i = 0; i < 2_000; i++) announced.push(await announce(log));
    expect(log.heldLocally()).toBe(0);
    for (const serial of [announced[0], announced[1_999]]) expect(await log.wasAnnounced(serial ?? '')).toBe(true);
    expect(await log.wasAnnounced('ffffffffff')).toBe(false);
  });

  it('remembers what a reused scan cannot see, and forgets it once the scan is stale', async () => {
    const log = announcementLog(redis, stream.key, clock);
    expect(await log.wasAnnounced('0')).toBe(false); // takes a scan, reused for a moment
    const during = await announce(log);
    expect(log.heldLocally()).toBe(1);
    expect(await log.wasAnnounced(during)).toBe(true);
    now += 600; // past the reuse window
    await announce(log);
    expect(log.heldLocally()).toBe(0);
    expect(await log.wasAnnounced(during)).toBe(true); // read from the stream now
  });
});
