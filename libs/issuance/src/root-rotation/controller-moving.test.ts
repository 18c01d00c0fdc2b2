// While leaves move away from a root, a pass lists them from the live-leaf index and reads only
// their records (issue 15: reading every record took ~3-6 s per pass at 100k certificates, on
// every tick of the rotation). Dropping a root still rests on every record: a leaf that a replica
// of the previous version stored without indexing it must still block the retire (or the final
// rollback) and still be moved. Real Redis, real BullMQ queue, real Tresor rotation state.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FileSecretStore, TresorProvider } from '@fsm-certs/providers';
import { Inventory, RotationStatusStore, createRotateQueue, type LeafFacts, type RotateQueue } from '@fsm-certs/queue';
import { usePrivateRedis } from '@fsm-certs/queue/testing';
import type { Issuer } from '@fsm-certs/x509';
import { csrLeafRecord } from '../test-support.test-helpers.js';
import { RootRotationController } from './controller.js';
import type { PassInventory } from './pass-leaves.js';

const db = usePrivateRedis({ flush: 'each' });
const PREFIX = '{moving-test}';
const HOUR = 3600_000;
const dirs: string[] = [];
const queues: RotateQueue[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
afterEach(async () => {
  await Promise.all(queues.splice(0).map((q) => q.close()));
});

/** The real inventory, counting full reads (pages of every record) and the records read by name. */
function countedInventory(inventory: Inventory) {
  const counted = {
    fullReadPages: 0,
    namesRead: [] as string[],
    leaves: (options: { cursor?: string; limit: number }) => {
      counted.fullReadPages += 1;
      return inventory.leaves(options);
    },
    leafFacts: (names: readonly string[]): Promise<LeafFacts[]> => {
      counted.namesRead.push(...names);
      return inventory.leafFacts(names);
    },
    liveLeafCounts: (nowMs: number) => inventory.liveLeafCounts(nowMs),
    reindexLiveLeaves: () => inventory.reindexLiveLeaves(),
    liveLeafNames: (...args: Parameters<Inventory['liveLeafNames']>) => inventory.liveLeafNames(...args),
    indexLiveLeaves: (facts: readonly LeafFacts[]) => inventory.indexLiveLeaves(facts),
  } satisfies PassInventory & Record<string, unknown>;
  return counted;
}

async function setup(options: { auto: boolean; propagationMs: number }) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'fsm-moving-'));
  dirs.push(dataDir);
  const tresor = await TresorProvider.start({ store: new FileSecretStore({ dataDir }) });
  const oldRoot = tresor.issuer;
  const inventory = new Inventory(db.redis, { prefix: PREFIX });
  const counted = countedInventory(inventory);
  const rotateQueue = createRotateQueue(db.redis, PREFIX);
  queues.push(rotateQueue);
  const status = new RotationStatusStore(db.redis, { prefix: PREFIX });
  let skewMs = 0;
  const clock = { now: () => Date.now() + skewMs };
  const controller = new RootRotationController({
    provider: tresor,
    inventory: counted,
    events: { publish: () => Promise.resolve('0-0') },
    status,
    rotateQueue,
    liveInstances: () => Promise.resolve(['replica-1']),
    liveGateways: () => Promise.resolve(['gateway-1']),
    instanceId: 'replica-1',
    clock,
    logger: pino({ level: process.env['TEST_LOG'] ?? 'silent' }),
    resyncTrustBundle: () => Promise.resolve(),
    currentIssuerId: () => undefined,
    publishedBundle: () => undefined,
  });
  // A spread of 1 ms: every leaf is due at once, so each pass shows what it enqueues.
  await tresor.applyRotationStep({ kind: 'prepare', propagationMs: options.propagationMs, spreadMs: 1, auto: options.auto }, 0);
  const put = (root: Issuer, name: string) => {
    const now = clock.now();
    return inventory.put(csrLeafRecord(root, name, { notBefore: now - 60_000, notAfter: now + 10 * HOUR, renewAt: now + 5 * HOUR, issuedAt: now }));
  };
  /** As a replica of the previous version stores it: the record replaced, the live-leaf index left as it was. */
  const putUnindexed = async (root: Issuer, name: string) => {
    const entry = await db.redis.zscore(inventory.keys.liveIndex, name);
    await put(root, name);
    if (entry === null) await db.redis.zrem(inventory.keys.liveIndex, name);
    else await db.redis.zadd(inventory.keys.liveIndex, entry, name);
  };
  /** Names of the rotate jobs enqueued and not yet taken, as a worker would find them. */
  const enqueued = async (): Promise<string[]> => (await rotateQueue.getJobs(['waiting'])).map((job) => job.data.commonName).sort();
  /** Re-issues every waiting leaf with `root`, as the rotate worker does (the new version's commit indexes it). */
  const work = async (root: Issuer): Promise<string[]> => {
    const jobs = await rotateQueue.getJobs(['waiting']);
    for (const job of jobs) {
      await put(root, job.data.commonName);
      await job.remove();
    }
    return jobs.map((job) => job.data.commonName).sort();
  };
  return {
    tresor,
    oldRoot,
    inventory,
    counted,
    controller,
    status,
    put,
    putUnindexed,
    enqueued,
    work,
    now: () => clock.now(),
    advance: (ms: number) => {
      skewMs += ms;
    },
  };
}

const activate = async (s: Awaited<ReturnType<typeof setup>>): Promise<Issuer> => {
  s.advance(10);
  await s.tresor.applyRotationStep({ kind: 'activate' }, s.tresor.material.rotation.generation);
  return s.tresor.issuer;
};

const oldRootOf = async (status: RotationStatusStore) => (await status.get())?.roots.find((root) => root.role === 'old');

describe('root rotation pass while leaves move', () => {
  it("re-issues the old root's leaves reading only their records, never the whole inventory", async () => {
    const s = await setup({ auto: false, propagationMs: 60_000 });
    const movers = ['m0.x', 'm1.x', 'm2.x', 'm3.x'];
    for (const name of movers) await s.put(s.oldRoot, name);
    const newRoot = await activate(s);
    for (let i = 0; i < 40; i += 1) await s.put(newRoot, `stay-${i}.x`);
    await s.controller.tickOnce();
    expect(await s.enqueued()).toEqual(movers);
    expect(s.counted.fullReadPages).toBe(0);
    expect([...s.counted.namesRead].sort()).toEqual(movers);
    expect(await oldRootOf(s.status)).toMatchObject({ fingerprint: s.oldRoot.fingerprint, liveLeaves: 4 });
    // The next pass finds the jobs already waiting: nothing twice, still no full read.
    await s.controller.tickOnce();
    expect(await s.enqueued()).toEqual(movers);
    expect(s.counted.fullReadPages).toBe(0);
  });

  it('does not retire the old root while a leaf an older replica put back under it without indexing it is live, and moves that leaf', async () => {
    const s = await setup({ auto: true, propagationMs: 60_000 });
    await s.put(s.oldRoot, 'a.x');
    await s.put(s.oldRoot, 'b.x');
    const newRoot = await activate(s);
    await s.controller.tickOnce();
    expect(await s.work(newRoot)).toEqual(['a.x', 'b.x']);
    // The index says nothing is left: the drain is noted only after one read of every record.
    await s.controller.tickOnce();
    expect(s.counted.fullReadPages).toBe(1);
    expect(s.tresor.material.rotation.drainedAt).toBeDefined();
    // Waiting out the propagation period reads no record.
    await s.controller.tickOnce();
    expect(s.counted.fullReadPages).toBe(1);

    // Then a replica of the previous version, still signing with the old root, stores b.x again.
    await s.putUnindexed(s.oldRoot, 'b.x');
    expect((await s.inventory.liveLeafCounts(s.now())).byIssuer.get(s.oldRoot.fingerprint)).toBeUndefined();
    await expect(s.controller.act({ version: 1, action: 'retire' })).rejects.toMatchObject({ code: 'ROTATION_CONFLICT', message: expect.stringContaining('1 live leaf certificate still chains to the old root') });
    s.advance(61_000);
    await s.controller.tickOnce();
    expect(s.tresor.material.rotation.stage).toBe('activated');
    expect(s.tresor.material.rotation.drainedAt).toBeUndefined();
    expect(await oldRootOf(s.status)).toMatchObject({ liveLeaves: 1 });
    // The read indexed what it found: b.x is listed and moved without another full read.
    const reads = s.counted.fullReadPages;
    await s.controller.tickOnce();
    expect(await s.enqueued()).toEqual(['b.x']);
    expect(s.counted.fullReadPages).toBe(reads);
    expect(s.tresor.material.rotation.stage).toBe('activated');

    await s.work(newRoot);
    await s.controller.tickOnce();
    expect(s.tresor.material.rotation.drainedAt).toBeDefined();
    s.advance(61_000);
    await s.controller.tickOnce();
    expect(s.tresor.material.rotation.stage).toBe('retired');
  });

  it('a rollback moves every leaf back to the old root, including one an older replica stored under the new root without indexing it', async () => {
    const s = await setup({ auto: false, propagationMs: 1_000 });
    const names = ['r0.x', 'r1.x', 'r2.x', 'hidden.x'];
    for (const name of names) await s.put(s.oldRoot, name);
    const newRoot = await activate(s);
    await s.controller.tickOnce();
    await s.work(newRoot);
    // hidden.x's index entry still says the old root: an older replica re-issued it without indexing.
    await s.put(s.oldRoot, 'hidden.x');
    await s.putUnindexed(newRoot, 'hidden.x');
    await s.tresor.applyRotationStep({ kind: 'rollback' }, s.tresor.material.rotation.generation);
    expect(s.tresor.issuer.fingerprint).toBe(s.oldRoot.fingerprint);

    const moved = new Set<string>();
    // Bounded: each pass moves what it finds; two or three passes suffice.
    for (let pass = 0; pass < 6 && s.tresor.material.rotation.drainedAt === undefined; pass += 1) {
      await s.controller.tickOnce();
      for (const name of await s.work(s.oldRoot)) moved.add(name);
    }
    expect([...moved].sort()).toEqual([...names].sort());
    for (const name of names) expect((await s.inventory.get(name))?.issuerId).toBe(s.oldRoot.fingerprint);
    s.advance(2_000);
    await expect(s.controller.act({ version: 1, action: 'rollback' })).resolves.toMatchObject({ stage: 'idle' });
  });

  it('refuses the final rollback while a leaf of the new root that the index misses is live', async () => {
    const s = await setup({ auto: false, propagationMs: 1_000 });
    await s.put(s.oldRoot, 'a.x');
    const newRoot = await activate(s);
    await s.controller.tickOnce();
    await s.work(newRoot);
    await s.tresor.applyRotationStep({ kind: 'rollback' }, s.tresor.material.rotation.generation);
    await s.controller.tickOnce();
    await s.work(s.oldRoot);
    await s.controller.tickOnce();
    expect(s.tresor.material.rotation.drainedAt).toBeDefined();
    // An older replica, still signing with the new root, re-issues a.x there without indexing it.
    await s.putUnindexed(newRoot, 'a.x');
    s.advance(2_000);
    await expect(s.controller.act({ version: 1, action: 'rollback' })).rejects.toMatchObject({ code: 'ROTATION_CONFLICT', message: expect.stringContaining('1 live leaf certificate still chains to the new root') });
    expect(s.tresor.material.rotation.stage).toBe('rolled-back');
  });
});
