// The trust bundle is swapped in one command, so replicas publishing the same root-rotation step at
// once agree on who saw the change (and announces it). Also the status store of the rotation.
import { describe, expect, it } from 'vitest';
import { createRootCa } from '@fsm-certs/x509';
import { RotationStatusStore } from '../rotation-status-store.js';
import { Inventory } from './inventory.js';
import { usePrivateRedis } from '../testing.test-helpers.js';

const db = usePrivateRedis();

describe('Inventory.swapTrustBundle', () => {
  it('returns the bundle it replaced, so of ten concurrent publishers of one change exactly one sees the old bundle', async () => {
    const inventory = new Inventory(db.redis, { prefix: '{swap-test}' });
    const [oldRoot, newRoot] = [createRootCa().certificatePem, createRootCa().certificatePem];
    const first = await inventory.swapTrustBundle({ issuingCaPem: oldRoot, trustedCasPem: [oldRoot], rootNotAfter: '2036-01-01T00:00:00.000Z' });
    expect(first.previous).toBeUndefined();
    const swaps = await Promise.all(
      Array.from({ length: 10 }, () => inventory.swapTrustBundle({ issuingCaPem: oldRoot, trustedCasPem: [oldRoot, newRoot], rootNotAfter: '2036-01-01T00:00:00.000Z' })),
    );
    expect(swaps.filter((s) => s.previous?.trustedCasPem.length === 1)).toHaveLength(1);
    expect((await inventory.getTrustBundle())?.trustedCasPem).toEqual([oldRoot, newRoot]);
  });
});

describe('RotationStatusStore', () => {
  it('reports the signer of live instances only, and gives the lease to one instance until it lapses', async () => {
    const store = new RotationStatusStore(db.redis, { prefix: '{status-test}' });
    await store.setSigner('a', 'f'.repeat(64));
    await store.setSigner('b', 'e'.repeat(64));
    expect(await store.signers(['a', 'c'])).toEqual({ a: 'f'.repeat(64) });
    expect(await store.takeLease('a', 5_000)).toBe(true);
    expect(await store.takeLease('b', 5_000)).toBe(false);
    expect(await store.takeLease('a', 5_000)).toBe(true);
    await db.redis.del(store.keys.rotationLease);
    expect(await store.takeLease('b', 5_000)).toBe(true);
  });
});
