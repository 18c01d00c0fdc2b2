// The root rotation controller's live-leaf counts: a count reads the whole inventory, so while no
// stage moves leaves it is taken again only after idleRecountMs (or when an admin acts); while a
// stage moves leaves every pass counts. Real Redis and Tresor; the controller's clock is a fake.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { EventStream, Inventory, RotationStatusStore, createRotateQueue, type RootRotationStatus, type RotateQueue } from '@fsm-certs/queue';
import type { TresorProvider } from '@fsm-certs/providers';
import type { CertificateIssuer } from '../certificate-issuer.js';
import { PREFIX, item, memoryLogger, startIssuer, startTestEnv, type TestEnv } from '../test-support.test-helpers.js';
import { RootRotationController } from './controller.js';

const IDLE_RECOUNT_MS = 60_000;

describe('RootRotationController live-leaf counts', () => {
  let env: TestEnv;
  let redis: Redis;
  let issuer: CertificateIssuer;
  let tresor: TresorProvider;
  let rotateQueue: RotateQueue;
  let status: RotationStatusStore;
  let controller: RootRotationController;
  let nowMs = Date.now();

  beforeAll(async () => {
    env = await startTestEnv();
    // One provider for the issuer and the controller: it signs with whichever root the stage says.
    tresor = await env.startTresor();
    ({ issuer, redis } = await startIssuer(env, { provider: tresor }));
    rotateQueue = createRotateQueue(redis, PREFIX);
    status = new RotationStatusStore(redis, { prefix: PREFIX });
    controller = new RootRotationController({
      provider: tresor,
      inventory: new Inventory(redis, { prefix: PREFIX }),
      events: new EventStream(redis, { prefix: PREFIX }),
      status,
      rotateQueue,
      liveInstances: () => Promise.resolve(['ca-1']),
      liveGateways: () => Promise.resolve(['gateway-1']),
      instanceId: 'ca-1',
      clock: { now: () => nowMs },
      logger: memoryLogger().logger,
      resyncTrustBundle: () => Promise.resolve(),
      currentIssuerId: () => undefined,
      publishedBundle: () => undefined,
      idleRecountMs: IDLE_RECOUNT_MS,
    });
  });

  afterAll(async () => {
    await controller?.stop();
    await rotateQueue?.close();
    await env?.close();
  });

  const issue = async (name: string): Promise<void> => {
    await issuer.handleItem(item(name), { mayBeRetry: false });
  };

  const liveLeaves = (s: RootRotationStatus | undefined, role: string): number | undefined => s?.roots.find((r) => r.role === role)?.liveLeaves;

  const published = async (): Promise<RootRotationStatus | undefined> => {
    await controller.tickOnce();
    return status.get();
  };

  it('counts live leaves again only after the idle recount period while no stage moves leaves', async () => {
    await issue('one.counts.test');
    expect(liveLeaves(await published(), 'current')).toBe(1);

    await issue('two.counts.test');
    // Within the period the previous count stands: no pass over the inventory on this tick.
    expect(liveLeaves(await published(), 'current')).toBe(1);

    nowMs += IDLE_RECOUNT_MS;
    expect(liveLeaves(await published(), 'current')).toBe(2);
  });

  it('counts at once when an admin acts, and on every pass while a stage moves leaves', async () => {
    await issue('three.counts.test');
    const started = await controller.act({ version: 1, action: 'start', propagationMs: 1_000, spreadMs: 3_600_000 });
    expect(started.stage).toBe('prepared');
    expect(liveLeaves(started, 'old')).toBe(3);

    const activated = await controller.act({ version: 1, action: 'activate', force: true });
    expect(activated.stage).toBe('activated');
    expect(liveLeaves(activated, 'old')).toBe(3);

    // The new root signs now; its leaf shows on the next pass, without waiting for any period.
    await issue('four.counts.test');
    const next = await published();
    expect(liveLeaves(next, 'old')).toBe(3);
    expect(liveLeaves(next, 'new')).toBe(1);
  });
});
