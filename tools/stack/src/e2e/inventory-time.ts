// Brings a certificate into its renewal window the way time would: its renewAt becomes now.
// (Waiting a third of a real lifetime is not a test; rewriting the index is what the clock does.)
import { Redis } from 'ioredis';
import { Inventory } from '@fsm-certs/queue';

export async function pullRenewAtToNow(redisUrl: string, commonName: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 3 });
  try {
    const inventory = new Inventory(redis);
    const record = await inventory.get(commonName);
    if (record === undefined) throw new Error(`no certificate for ${commonName} in the inventory`);
    const result = await inventory.put({ ...record, renewAt: new Date().toISOString() }, { expectSerial: record.serialNumber });
    if (!result.stored) throw new Error(`${commonName} changed while its renew time was being moved`);
  } finally {
    redis.disconnect();
  }
}

/** Sets a certificate's renewAt to `at` (e.g. an hour ago: overdue, as if rotation had stalled). */
export async function setRenewAt(redisUrl: string, commonName: string, at: Date): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 3 });
  try {
    const inventory = new Inventory(redis);
    const record = await inventory.get(commonName);
    if (record === undefined) throw new Error(`no certificate for ${commonName} in the inventory`);
    const result = await inventory.put({ ...record, renewAt: at.toISOString() }, { expectSerial: record.serialNumber });
    if (!result.stored) throw new Error(`${commonName} changed while its renew time was being moved`);
  } finally {
    redis.disconnect();
  }
}
