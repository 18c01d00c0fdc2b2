// Issue 10 from outside, against the running system (real processes, a real Redis, the CLI as a
// child process): a stored record nobody can read must not take lists down for everyone, a
// certificate past 64 KiB of PEM must round-trip, and a client resuming after the bounded event
// stream was trimmed must be told.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayRequestError, streamResetOf, type GatewayEvent } from '@fsm-certs/client';
import { DEFAULT_PREFIX, EventStream, keyspace, type IssuedEvent } from '@fsm-certs/queue';
import { opensslVerify } from '@fsm-certs/testing';
import { startHarness, type Harness } from './harness.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

interface CliRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

describe('unreadable records, long certificates and a trimmed event stream, on the running system', () => {
  let h: Harness;
  let redis: Redis;
  const keys = keyspace(DEFAULT_PREFIX);

  function cli(args: readonly string[]): Promise<CliRun> {
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=development', 'apps/cli/src/main.ts', ...args], {
      cwd: repoRoot,
      env: { ...process.env, FSM_CERTS_SERVER: h.stack.gatewayUrl, FSM_CERTS_TOKEN: h.stack.adminToken, FSM_DATA_DIR: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
  }

  beforeAll(async () => {
    // No rotation-worker: nothing but the test changes the inventory.
    h = await startHarness({ rotationWorkers: 0 });
    redis = new Redis(h.stack.redisUrl, { maxRetriesPerRequest: 3 });
  }, 120_000);
  afterAll(async () => {
    redis?.disconnect();
    await h?.close();
  });

  it('issues, serves and lists a certificate whose PEM is longer than 64 KiB', async () => {
    const sans = Array.from({ length: 40 }, (_, i) => `https://long.example/${String(i).padStart(2, '0')}/${'p'.repeat(1_480)}`);
    const issued = await h.client.issue({ commonName: 'long.example.com', sans });
    expect(issued.certificate.length).toBeGreaterThan(65_536);
    expect(opensslVerify(issued.certificate, await h.client.trustBundlePem(), { chainPem: issued.chain }).ok).toBe(true);
    expect((await h.client.get('long.example.com')).certificate).toBe(issued.certificate);
    const page = await h.client.list();
    expect(page.items.find((i) => i.commonName === 'long.example.com')?.certificate).toBe(issued.certificate);
    expect(page.unreadable).toEqual([]);
  });

  it('keeps GET /v1/certificates, cert list and check working around a record written corrupt into Redis, and lets cert release remove it', async () => {
    await h.client.issue({ commonName: 'fine.bookstore.cluster.local' });
    const broken = 'broken.bookstore.cluster.local';
    const issued = await h.client.issue({ commonName: broken });
    // What a crash mid-write or a disk error leaves: the record JSON cut short.
    const json = (await redis.hget(keys.cert(broken), 'record')) ?? '';
    await redis.hset(keys.cert(broken), 'record', json.slice(0, json.length / 2));

    const page = await h.client.list();
    expect(page.items.map((i) => i.commonName)).toContain('fine.bookstore.cluster.local');
    expect(page.items.map((i) => i.commonName)).not.toContain(broken);
    expect(page.unreadable).toEqual([broken]);

    const single = await h.client.get(broken).catch((error: unknown) => error);
    expect(single).toBeInstanceOf(GatewayRequestError);
    expect(single).toMatchObject({ status: 500, code: 'RECORD_UNREADABLE' });
    const metrics = await (await h.client.request('GET', '/metrics', undefined, 'text/plain')).text();
    expect(Number(/^fsm_certs_inventory_undecodable_records_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2);

    const list = await cli(['cert', 'list']);
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(/\nfine\.bookstore\.cluster\.local\s+[0-9a-f]+\s+\S+\s+\S+\s+ok\n/);
    expect(list.stdout).not.toContain(broken);
    expect(list.stderr).toBe(
      `fsm-certs: warning: 1 stored certificate record could not be read by the gateway and is not listed: ${broken}; release each (fsm-certs cert release NAME) and issue it again\n`,
    );

    const check = await cli(['check']);
    expect(check.status).toBe(1);
    expect(check.stdout).toBe(
      `problem: certificate record ${broken} cannot be read by the gateway (corrupted, or written by another version), so its expiry is unknown: run fsm-certs cert release ${broken} and issue it again\n`,
    );

    // Issuing the name again goes through the ca-service, which refuses it the same way.
    const reissue = await h.client.issue({ commonName: broken }).catch((error: unknown) => error);
    expect(reissue).toMatchObject({ status: 500, code: 'RECORD_UNREADABLE' });

    const release = await cli(['cert', 'release', broken]);
    expect(release.stderr).toBe('');
    expect(release.status).toBe(0);
    expect((await h.client.list()).unreadable).toEqual([]);
    const again = await h.client.issue({ commonName: broken });
    expect(again.serialNumber).not.toBe(issued.serialNumber);
    expect((await cli(['check'])).status).toBe(0);
  });

  it('starts a stream resumed after trimmed events with a reset, which the client reads and the CLI prints', async () => {
    // A publisher keeping ~10 events trims the system's own stream, as 10 000 announcements would.
    const trimming = new EventStream(redis, { maxLength: 10 });
    const at = new Date().toISOString();
    const ids: string[] = [];
    for (let i = 0; i < 300; i++) {
      const event: IssuedEvent = { version: 1, kind: 'issued', at, commonName: `t${i}.trim.cluster.local`, serialNumber: (i + 1).toString(16), notAfter: at };
      ids.push(await trimming.publish(event));
    }
    const oldest = await trimming.oldestId();
    expect(ids.indexOf(oldest ?? '')).toBeGreaterThan(1);

    const abort = new AbortController();
    let subscribed = false;
    const received: GatewayEvent[] = [];
    for await (const event of h.client.events({ lastEventId: ids[0] ?? '', signal: abort.signal, onSubscribed: () => (subscribed = true) })) {
      received.push(event);
      if (received.length === 2) break;
    }
    abort.abort();
    expect(subscribed).toBe(true);
    expect(received[0] === undefined ? undefined : streamResetOf(received[0])).toEqual({ reason: 'trimmed', lastEventId: ids[0], oldestId: oldest });
    expect(received[1]).toMatchObject({ id: oldest, type: 'issued' });

    const follower = await cli(['events', '--from', ids[0] ?? '', '--count', '1']);
    expect(follower.status).toBe(0);
    const lines = follower.stdout.split('\n').filter(Boolean);
    expect(lines[0]).toBe(`-  reset                 -  reason=trimmed  after=${ids[0]}  oldest=${oldest}`);
    expect(lines[1]).toMatch(new RegExp(`^${oldest}\\s+issued\\s+`));
    expect(follower.stderr).toContain(`events after ${ids[0]} were trimmed from the gateway's stream`);
  });
});
