// Looks up whether a serial was already announced, for the rare retried attempt that may have
// crashed between storing a cert and publishing its event. Scans only the newest entries (an
// interrupted attempt is minutes old at most, far inside the window) and reuses one scan for a
// short while, since a retried batch asks once per remembered item; serials announced by this
// process meanwhile are remembered locally so a reused scan never repeats an announcement. Only
// meanwhile: a serial announced while no scan is being reused is not kept (the next scan reads it
// from the stream), so the local set holds at most one reuse window's announcements. Keeping
// every serial ever issued made it grow for the life of the process (one string per certificate),
// and with it the heap every garbage collection walks.
import type { Redis } from 'ioredis';
import { systemClock, type Clock } from '@fsm-certs/core';

const SCAN_WINDOW = 2_000;
const REUSE_MS = 500;

export interface AnnouncementLog {
  wasAnnounced(serialNumber: string): Promise<boolean>;
  /** Call after publishing an event for serialNumber. */
  noteAnnounced(serialNumber: string): void;
  /** How many serials are held in memory: only those announced while a scan is being reused. */
  heldLocally(): number;
}

export function announcementLog(redis: Redis, streamKey: string, clock: Clock = systemClock): AnnouncementLog {
  let cached: { at: number; text: Promise<string> } | undefined;
  const noted = new Set<string>();
  const fresh = (now: number): boolean => cached !== undefined && now - cached.at <= REUSE_MS;
  const scan = (): Promise<string> => {
    const now = clock.now();
    if (cached === undefined || !fresh(now)) {
      noted.clear(); // a fresh scan sees everything announced before it
      const text = redis
        .xrevrange(streamKey, '+', '-', 'COUNT', SCAN_WINDOW)
        .then((entries) => entries.map(([, fields]) => fields.join('\n')).join('\n'));
      text.catch(() => {
        cached = undefined; // never reuse a failed scan
      });
      cached = { at: now, text };
      return text;
    }
    return cached.text;
  };
  return {
    async wasAnnounced(serialNumber) {
      const text = await scan();
      return noted.has(serialNumber) || text.includes(`"serialNumber":"${serialNumber}"`);
    },
    noteAnnounced(serialNumber) {
      // Announced before any later scan is sent, so only a scan being reused can miss it.
      if (fresh(clock.now())) noted.add(serialNumber);
      else if (noted.size > 0) noted.clear();
    },
    heldLocally() {
      return noted.size;
    },
  };
}
