// The root rotation's leaf scan reads every record. Between rotations it only feeds the published
// status, so a large inventory must not make every 2 s tick re-read it all, nor hold a replica's
// readiness for the length of a scan (issue 15: 100k certificates took ~6 s per scan).
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { CertificateProvider } from '@fsm-certs/providers';
import { RotationStatusStore, type LeafFacts } from '@fsm-certs/queue';
import { usePrivateRedis } from '@fsm-certs/queue/testing';
import { eventually } from '@fsm-certs/testing';
import { createRootCa, fingerprintSha256 } from '@fsm-certs/x509';
import { RootRotationController } from './controller.js';

const db = usePrivateRedis({ flush: 'each' });
const PREFIX = '{scan-test}';
const ROOT = createRootCa().issuer.certificatePem;
const ISSUER = fingerprintSha256(ROOT);

const provider: CertificateProvider = {
  kind: 'vault',
  issue: () => Promise.reject(new Error('not used')),
  trustBundle: () => Promise.reject(new Error('not used')),
  close: () => Promise.resolve(),
};

/** An inventory of `count` live leaves whose leaves() is counted and can be held back. */
function fakeInventory(count: number) {
  const leaf = { notAfterMs: Date.parse('2999-01-01T00:00:00.000Z'), issuerId: ISSUER, serialNumber: '1' };
  let gate: Promise<void> = Promise.resolve();
  let open: () => void = () => undefined;
  const inventory = {
    pages: 0,
    hold(): void {
      gate = new Promise((resolve) => (open = resolve));
    },
    release(): void {
      open();
    },
    async leaves(): Promise<{ items: LeafFacts[] }> {
      inventory.pages += 1;
      await gate;
      return { items: Array.from({ length: count }, (_, i): LeafFacts => ({ ...leaf, commonName: `n${i}.x` })) };
    },
  };
  return inventory;
}

function controller(inventory: ReturnType<typeof fakeInventory>, idleScanSpacing: { factor: number; minScanMs: number }): { controller: RootRotationController; status: RotationStatusStore } {
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
    clock: { now: () => Date.parse('2030-01-01T00:00:00Z') },
    logger: pino({ level: process.env['TEST_LOG'] ?? 'silent' }),
    resyncTrustBundle: () => Promise.resolve(),
    currentIssuerId: () => ISSUER,
    publishedBundle: () => ({ issuingCaPem: ROOT, trustedCasPem: [ROOT] }),
    idleScanSpacing,
  });
  return { controller: c, status };
}

describe('root rotation controller on a large inventory', () => {
  it('between rotations, reuses a recent scan instead of re-reading every record on each tick', async () => {
    const inventory = fakeInventory(3);
    const { controller: c, status } = controller(inventory, { factor: 1e9, minScanMs: 0 });
    await c.tickOnce();
    await c.tickOnce();
    await c.tickOnce();
    expect(inventory.pages).toBe(1);
    expect((await status.get())?.roots[0]?.liveLeaves).toBe(3);
  });

  it('re-scans every tick when scans are short (a small inventory), as before', async () => {
    const inventory = fakeInventory(3);
    const { controller: c } = controller(inventory, { factor: 1e9, minScanMs: 60_000 });
    await c.tickOnce();
    await c.tickOnce();
    expect(inventory.pages).toBe(2);
  });

  it('does not hold start-up for a slow first scan; the scan finishes in the background and publishes', async () => {
    const inventory = fakeInventory(2);
    const { controller: c, status } = controller(inventory, { factor: 1, minScanMs: 0 });
    inventory.hold();
    await c.firstTick(10);
    expect(inventory.pages).toBe(1);
    expect(await status.get()).toBeUndefined();
    inventory.release();
    const published = await eventually(async () => (await status.get())?.roots[0]?.liveLeaves, 10_000, 'the first pass to publish the status');
    expect(published).toBe(2);
  });
});
