// Between rotations the root rotation's live-leaf counts only feed the published status: they must
// come from the inventory's live-leaf index without reading records (issue 15: reading every
// record took ~6 s per count at 100k certificates, and ran ~1/21 of the time when reused), and the
// first start after an upgrade must index the records stored before it, without holding the
// replica's readiness for as long as that reads them.
import { pino } from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import type { CertificateProvider } from '@fsm-certs/providers';
import { Inventory, LiveLeaves, RotationStatusStore } from '@fsm-certs/queue';
import { usePrivateRedis } from '@fsm-certs/queue/testing';
import { eventually } from '@fsm-certs/testing';
import { createRootCa, fingerprintSha256 } from '@fsm-certs/x509';
import { csrLeafRecord } from '../test-support.test-helpers.js';
import { RootRotationController } from './controller.js';

const db = usePrivateRedis({ flush: 'each' });
const PREFIX = '{scan-test}';
const CA = createRootCa();
const ROOT = CA.issuer.certificatePem;
const ISSUER = fingerprintSha256(ROOT);
const NOW = Date.parse('2030-01-01T00:00:00Z');

const provider: CertificateProvider = {
  kind: 'vault',
  issue: () => Promise.reject(new Error('not used')),
  trustBundle: () => Promise.reject(new Error('not used')),
  close: () => Promise.resolve(),
};

/** The real inventory, with its record reads counted and able to be held back. */
function countedInventory() {
  const inventory = new Inventory(db.redis, { prefix: PREFIX });
  let gate: Promise<void> = Promise.resolve();
  let open: () => void = () => undefined;
  const counted = {
    pages: 0,
    hold(): void {
      gate = new Promise((resolve) => (open = resolve));
    },
    release(): void {
      open();
    },
    async leaves(options: { cursor?: string; limit: number }) {
      counted.pages += 1;
      await gate;
      return inventory.leaves(options);
    },
    liveLeafCounts: (nowMs: number) => inventory.liveLeafCounts(nowMs),
    liveLeafNames: (...args: Parameters<Inventory['liveLeafNames']>) => inventory.liveLeafNames(...args),
    leafFacts: (names: readonly string[]) => inventory.leafFacts(names),
    indexLiveLeaves: (facts: Parameters<Inventory['indexLiveLeaves']>[0]) => inventory.indexLiveLeaves(facts),
    // Reads its records through the counted leaves(), as Inventory's reads through its own.
    reindexLiveLeaves: () => new LiveLeaves(db.redis, inventory.keys, counted).reindex(),
  };
  return { inventory, counted };
}

async function storeLeaves(inventory: Inventory, names: readonly string[], notAfterMs = Date.parse('2999-01-01T00:00:00.000Z')): Promise<void> {
  for (const commonName of names) {
    await inventory.put(csrLeafRecord(CA.issuer, commonName, { notBefore: NOW - 3600_000, notAfter: notAfterMs, renewAt: NOW, issuedAt: NOW }, 'vault'));
  }
}

function controller(inventory: ReturnType<typeof countedInventory>['counted'], idleScanSpacing = { factor: 20, minScanMs: 50 }): { controller: RootRotationController; status: RotationStatusStore } {
  const status = new RotationStatusStore(db.redis, { prefix: PREFIX });
  const c = new RootRotationController({
    provider,
    inventory,
    events: { publish: () => Promise.resolve('0-0') },
    status,
    rotateQueue: { getJob: () => Promise.resolve(undefined), add: () => Promise.reject(new Error('nothing to move')) },
    liveInstances: () => Promise.resolve(['replica-1']),
    liveGateways: () => Promise.resolve(['gateway-1']),
    instanceId: 'replica-1',
    clock: { now: () => NOW },
    logger: pino({ level: process.env['TEST_LOG'] ?? 'silent' }),
    resyncTrustBundle: () => Promise.resolve(),
    currentIssuerId: () => ISSUER,
    publishedBundle: () => ({ issuingCaPem: ROOT, trustedCasPem: [ROOT] }),
    idleScanSpacing,
  });
  return { controller: c, status };
}

const liveLeavesOf = async (status: RotationStatusStore): Promise<number | undefined> => (await status.get())?.roots[0]?.liveLeaves;

let setup: ReturnType<typeof countedInventory>;
beforeEach(() => {
  setup = countedInventory();
});

describe('root rotation controller between rotations', () => {
  it('counts live leaves from the index on every tick without reading a record, and follows new, replaced, deleted and expired leaves', async () => {
    await storeLeaves(setup.inventory, ['a.x', 'b.x', 'c.x']);
    await setup.inventory.reindexLiveLeaves();
    const { controller: c, status } = controller(setup.counted);
    await c.tickOnce();
    expect(await liveLeavesOf(status)).toBe(3);
    await storeLeaves(setup.inventory, ['d.x']);
    await storeLeaves(setup.inventory, ['a.x']);
    await setup.inventory.delete('b.x');
    await storeLeaves(setup.inventory, ['c.x'], NOW);
    await c.tickOnce();
    // a.x (replaced) and d.x; b.x deleted; c.x's new leaf ends at NOW, so it is not live any more.
    expect(await liveLeavesOf(status)).toBe(2);
    expect(setup.counted.pages).toBe(0);
  });

  it('after an upgrade, indexes the records stored before it once, then counts them without reading records again', async () => {
    await storeLeaves(setup.inventory, ['a.x', 'b.x']);
    // As the previous version left Redis: records and no live-leaf index.
    await db.redis.del(setup.inventory.keys.liveIndex, setup.inventory.keys.liveIssuers);
    const { controller: c, status } = controller(setup.counted);
    await c.tickOnce();
    expect(await liveLeavesOf(status)).toBe(2);
    const pages = setup.counted.pages;
    expect(pages).toBeGreaterThan(0);
    await c.tickOnce();
    await c.tickOnce();
    expect(setup.counted.pages).toBe(pages);
    expect(await liveLeavesOf(status)).toBe(2);
  });

  it('while records the index misses keep appearing, indexes them again only after the spacing has passed', async () => {
    await storeLeaves(setup.inventory, ['a.x']);
    const { controller: c, status } = controller(setup.counted, { factor: 1e9, minScanMs: 0 });
    await c.tickOnce();
    const pages = setup.counted.pages;
    // A replica of the previous version stores b.x: the index does not hold it.
    await storeLeaves(setup.inventory, ['b.x']);
    await db.redis.zrem(setup.inventory.keys.liveIndex, 'b.x');
    await c.tickOnce();
    expect(setup.counted.pages).toBe(pages);
    expect(await liveLeavesOf(status)).toBe(1);
    const { controller: unspaced, status: unspacedStatus } = controller(setup.counted, { factor: 1e9, minScanMs: 60_000 });
    await unspaced.tickOnce();
    expect(setup.counted.pages).toBeGreaterThan(pages);
    expect(await liveLeavesOf(unspacedStatus)).toBe(2);
  });

  it('does not hold start-up for a slow first indexing; it finishes in the background and publishes', async () => {
    await storeLeaves(setup.inventory, ['a.x', 'b.x']);
    await db.redis.del(setup.inventory.keys.liveIndex, setup.inventory.keys.liveIssuers);
    const { controller: c, status } = controller(setup.counted);
    setup.counted.hold();
    await c.firstTick(10);
    expect(setup.counted.pages).toBe(1);
    expect(await status.get()).toBeUndefined();
    setup.counted.release();
    const published = await eventually(() => liveLeavesOf(status), 10_000, 'the first pass to publish the status');
    expect(published).toBe(2);
  });
});
