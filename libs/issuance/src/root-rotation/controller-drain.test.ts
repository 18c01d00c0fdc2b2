// While leaves move away from a root, whether it may be dropped is decided from the records
// themselves, never from the live-leaf index: a replica of the previous version (rolling upgrade)
// stores records without indexing them, and an index that misses a leaf still signed by the old
// root would let it be retired under a live workload.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { FileSecretStore, TresorProvider } from '@fsm-certs/providers';
import { Inventory, RotationStatusStore, type CertificateRecord, type RotateQueue } from '@fsm-certs/queue';
import { usePrivateRedis } from '@fsm-certs/queue/testing';
import { csrLeafRecord } from '../test-support.test-helpers.js';
import { RootRotationController } from './controller.js';

const db = usePrivateRedis({ flush: 'each' });
const PREFIX = '{drain-test}';
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('root rotation controller while leaves move', () => {
  it('counts a leaf of the old root that the live-leaf index misses, and refuses to retire the old root', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'fsm-drain-'));
    dirs.push(dataDir);
    const tresor = await TresorProvider.start({ store: new FileSecretStore({ dataDir }) });
    const oldRoot = tresor.issuer;
    const inventory = new Inventory(db.redis, { prefix: PREFIX });
    const now = Date.now();
    const name = 'web.bookstore.cluster.local';
    const record = (root: typeof oldRoot): CertificateRecord =>
      csrLeafRecord(root, name, { notBefore: now - 60_000, notAfter: now + 3600_000, renewAt: now + 1800_000, issuedAt: now });
    await tresor.applyRotationStep({ kind: 'prepare', propagationMs: 5_000, spreadMs: 3600_000, auto: true }, 0);
    await tresor.applyRotationStep({ kind: 'activate' }, 1);
    const newRoot = tresor.issuer;
    expect(newRoot.fingerprint).not.toBe(oldRoot.fingerprint);
    // The name moved to the new root (indexed), then a replica of the previous version, still
    // signing with the old root, replaced it: the record is the old root's, the index entry the
    // new root's, and the index holds as many names as the inventory.
    await inventory.put(record(newRoot));
    await inventory.reindexLiveLeaves();
    const entry = await db.redis.zscore(inventory.keys.liveIndex, name);
    await inventory.put(record(oldRoot));
    await db.redis.zadd(inventory.keys.liveIndex, entry ?? '0', name);
    const indexed = await inventory.liveLeafCounts(now);
    expect(indexed).toEqual({ complete: true, byIssuer: new Map([[newRoot.fingerprint, 1]]) });
    const enqueued: string[] = [];
    const rotateQueue: Pick<RotateQueue, 'getJob' | 'add'> = {
      getJob: () => Promise.resolve(undefined),
      add: (_name, data) => {
        enqueued.push(data.commonName);
        return Promise.reject(new Error('not needed here'));
      },
    };
    const status = new RotationStatusStore(db.redis, { prefix: PREFIX });
    const controller = new RootRotationController({
      provider: tresor,
      inventory,
      events: { publish: () => Promise.resolve('0-0') },
      status,
      rotateQueue,
      liveInstances: () => Promise.resolve(['replica-1']),
      liveGateways: () => Promise.resolve(['gateway-1']),
      instanceId: 'replica-1',
      clock: { now: () => Date.now() },
      logger: pino({ level: process.env['TEST_LOG'] ?? 'silent' }),
      resyncTrustBundle: () => Promise.resolve(),
      currentIssuerId: () => undefined,
      publishedBundle: () => undefined,
    });

    await expect(controller.act({ version: 1, action: 'retire' })).rejects.toMatchObject({
      code: 'ROTATION_CONFLICT',
      message: expect.stringContaining('1 live leaf certificate still chains to the old root'),
    });
    await controller.tickOnce();
    const published = await status.get();
    expect(published?.stage).toBe('activated');
    expect(published?.roots.find((root) => root.role === 'old')).toMatchObject({ fingerprint: oldRoot.fingerprint, liveLeaves: 1 });
    expect(published?.waitingFor).toContain('1 live leaf certificate still chains to the old root');
  });
});
