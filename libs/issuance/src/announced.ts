// Looks up whether a serial was already announced, for the rare retried attempt that may have
// crashed between storing a cert and publishing its event. Scans only the newest entries: an
// interrupted attempt is minutes old at most, far inside the window.
import type { Redis } from 'ioredis';

const SCAN_WINDOW = 2_000;

export function announcementLookup(redis: Redis, streamKey: string): (serialNumber: string) => Promise<boolean> {
  return async (serialNumber) => {
    const entries = await redis.xrevrange(streamKey, '+', '-', 'COUNT', SCAN_WINDOW);
    const needle = `"serialNumber":"${serialNumber}"`;
    return entries.some(([, fields]) => fields.some((value) => value.includes(needle)));
  };
}
