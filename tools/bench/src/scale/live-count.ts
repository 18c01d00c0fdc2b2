// The root rotation's live-leaf count at one inventory size (issue 15): from the live-leaf index
// (what a pass between rotations costs now: one script, O(issuers * log n)) against reading every
// record (what it cost before, and what a pass still costs while leaves move), each timed and
// counted in Redis commands; and the index's memory per certificate. Nothing else may use this
// Redis meanwhile (the command counts are INFO commandstats deltas).
import type { Redis } from 'ioredis';
import { scanLeaves } from '@fsm-certs/issuance';
import type { Inventory } from '@fsm-certs/queue';
import { median } from '../measure.js';
import { countCommands, keyMemory } from './redis-stats.js';

export interface LiveCountFigures {
  readonly live_count_index_ms: number;
  readonly live_count_index_commands: number;
  readonly live_count_scan_ms: number;
  readonly live_count_scan_commands: number;
  readonly live_count_scan_over_index: number;
  readonly live_counts_agree: boolean;
  readonly live_index_bytes_per_cert: number;
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { ms: performance.now() - started, value };
}

export async function measureLiveCount(redis: Redis, inventory: Inventory, size: number): Promise<LiveCountFigures> {
  const nowMs = Date.now();
  const indexRuns: number[] = [];
  let index = await inventory.liveLeafCounts(nowMs);
  const indexCommands = await countCommands(redis, async () => {
    const run = await timed(() => inventory.liveLeafCounts(nowMs));
    index = run.value;
    indexRuns.push(run.ms);
  });
  for (let i = 0; i < 4; i += 1) indexRuns.push((await timed(() => inventory.liveLeafCounts(nowMs))).ms);
  let scanMs = 0;
  let scanned = new Map<string, number>();
  const scanCommands = await countCommands(redis, async () => {
    const run = await timed(() => scanLeaves(inventory, nowMs, undefined));
    scanMs = run.ms;
    scanned = new Map(run.value.liveByIssuer);
  });
  const indexMs = median(indexRuns);
  const agree = scanned.size === index.byIssuer.size && [...scanned].every(([issuer, n]) => index.byIssuer.get(issuer) === n);
  return {
    live_count_index_ms: Number(indexMs.toFixed(3)),
    live_count_index_commands: indexCommands.total,
    live_count_scan_ms: Math.round(scanMs),
    live_count_scan_commands: scanCommands.total,
    live_count_scan_over_index: Math.round(scanMs / Math.max(indexMs, 0.001)),
    live_counts_agree: agree,
    live_index_bytes_per_cert: Math.round((await keyMemory(redis, inventory.keys.liveIndex)) / size),
  };
}
