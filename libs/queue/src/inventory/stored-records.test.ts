// Reading back the certificates an issue result v3 names: each only while its name still holds
// the named serial, all of a job's in one round trip.
import { beforeAll, describe, expect, it } from 'vitest';
import { certificateRecord } from '../test-fixtures.test-helpers.js';
import { usePrivateRedis } from '../testing.test-helpers.js';
import { Inventory } from './inventory.js';

const db = usePrivateRedis({ flush: 'each' });
const PREFIX = '{stored-test}';
let inventory: Inventory;

beforeAll(() => {
  inventory = new Inventory(db.redis, { prefix: PREFIX });
});

/** Calls of each command Redis has executed so far. */
async function calls(): Promise<Record<string, number>> {
  return Object.fromEntries([...(await db.redis.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map((m) => [m[1], Number(m[2])]));
}

describe('Inventory.readStored', () => {
  it('reads the named records as get() does, in one script call of one HMGET each, the CA entry only the first time', async () => {
    const records = ['a', 'b', 'c'].map((n) => certificateRecord({ commonName: `${n}.ns.cluster.local`, encryptedPrivateKey: 'v1.x.y.z' }));
    for (const record of records) await inventory.put(record);
    const reader = new Inventory(db.redis, { prefix: PREFIX });
    const names = records.map(({ commonName, serialNumber }) => ({ commonName, serialNumber }));
    const before = await calls();
    const first = await reader.readStored(names);
    const between = await calls();
    const second = await reader.readStored(names);
    const after = await calls();
    for (const read of [first, second]) expect(read).toEqual(await Promise.all(records.map(async (r) => ({ kind: 'stored', record: await inventory.get(r.commonName) }))));
    expect((between['hmget'] ?? 0) - (before['hmget'] ?? 0)).toBe(3);
    expect((between['mget'] ?? 0) - (before['mget'] ?? 0)).toBe(1);
    // The INFO between the reads is the only other command.
    expect((after['hmget'] ?? 0) - (between['hmget'] ?? 0)).toBe(3);
    expect((after['mget'] ?? 0) - (between['mget'] ?? 0)).toBe(0);
    // Once the script is loaded (the first call may load it), one call per read.
    expect((after['evalsha'] ?? 0) - (between['evalsha'] ?? 0)).toBe(1);
    expect(await reader.readStored([])).toEqual([]);
  });

  it('reports a name renewed since, or released, as changed and never hands out the record it holds now', async () => {
    const named = certificateRecord({ commonName: 'renewed.ns.cluster.local' });
    const released = certificateRecord({ commonName: 'released.ns.cluster.local' });
    const kept = certificateRecord({ commonName: 'kept.ns.cluster.local' });
    for (const record of [named, released, kept]) await inventory.put(record);
    const successor = certificateRecord({ commonName: named.commonName });
    await inventory.put(successor);
    await inventory.delete(released.commonName);
    const reads = await inventory.readStored([named, released, kept].map(({ commonName, serialNumber }) => ({ commonName, serialNumber })));
    expect(reads).toEqual([
      { kind: 'changed', currentSerial: successor.serialNumber },
      { kind: 'changed', currentSerial: undefined },
      { kind: 'stored', record: kept },
    ]);
  });

  it('reports a named record that does not decode as unreadable, the others of the job as stored', async () => {
    const damaged = certificateRecord({ commonName: 'damaged.ns.cluster.local' });
    const fine = certificateRecord({ commonName: 'fine.ns.cluster.local' });
    for (const record of [damaged, fine]) await inventory.put(record);
    await db.redis.hset(inventory.keys.cert(damaged.commonName), 'record', '{"not":"a record"');
    const [bad, good] = await inventory.readStored([damaged, fine].map(({ commonName, serialNumber }) => ({ commonName, serialNumber })));
    expect(bad).toMatchObject({ kind: 'unreadable', error: { code: 'RECORD_UNREADABLE', commonName: damaged.commonName, serialNumber: damaged.serialNumber } });
    expect(good).toEqual({ kind: 'stored', record: fine });
  });
});
