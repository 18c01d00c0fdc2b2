// A root rotation's pass while leaves move (issue 15), at one inventory size: every loaded leaf
// chains to the root being left (as right after an activation), and the pass finds the leaves whose
// time in the spread has come. Measured three ways in the same run, each timed and counted in
// Redis commands (INFO commandstats deltas; nothing else may use this Redis meanwhile):
// - index, 1% due: what a pass costs now early in the spread (list the leaving root's names from
//   the live-leaf index, read only the due records), the stage's first pass and a later one (the
//   names' due times are kept between passes);
// - index, all due: the most a pass costs now (the spread has ended and no leaf has moved yet, so
//   every leaving record is read), and also what the final read before a drop costs;
// - every record: what every pass cost before (scanLeaves), at any point of the spread.
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { PassLeafSource, scanLeaves, type ScanPlan } from '@fsm-certs/issuance';
import type { Inventory } from '@fsm-certs/queue';
import { countCommands } from './redis-stats.js';

export interface MovingPassFigures {
  readonly moving_pass_index_first_ms: number;
  readonly moving_pass_index_ms: number;
  readonly moving_pass_index_commands: number;
  readonly moving_pass_index_due: number;
  readonly moving_pass_index_all_due_ms: number;
  readonly moving_pass_index_all_due_commands: number;
  readonly moving_pass_index_all_due: number;
  readonly moving_pass_scan_ms: number;
  readonly moving_pass_scan_commands: number;
  readonly moving_pass_scan_due: number;
  readonly moving_pass_scan_over_index: number;
  readonly moving_pass_agree: boolean;
}

const SPREAD_MS = 3_600_000;
/** A root that signs nothing in the bench: every loaded leaf is to move away from its own. */
const SIGNER = 'f0'.repeat(32);

function planAt(nowMs: number, leaving: string, dueFraction: number): ScanPlan {
  return {
    signer: SIGNER,
    spreadFrom: new Set([leaving]),
    windowStartMs: nowMs - Math.round(SPREAD_MS * dueFraction),
    spreadMs: SPREAD_MS,
    salt: 'bench/activated',
    trusted: new Set([leaving]),
  };
}

async function timedCommands<T>(redis: Redis, work: () => Promise<T>): Promise<{ ms: number; commands: number; value: T }> {
  let ms = 0;
  let value: T | undefined;
  const counted = await countCommands(redis, async () => {
    const started = performance.now();
    value = await work();
    ms = performance.now() - started;
  });
  if (value === undefined) throw new Error('the measured work returned nothing');
  return { ms, commands: counted.total, value };
}

function newSource(inventory: Inventory): PassLeafSource {
  return new PassLeafSource({ inventory, logger: pino({ level: 'silent' }) });
}

/** The names a pass would re-issue: listed from the index, due records read. */
async function indexPass(inventory: Inventory, nowMs: number, plan: ScanPlan, source = newSource(inventory)): Promise<string[]> {
  const leaves = await source.fromIndex(nowMs, plan, true);
  if (leaves.source !== 'index') throw new Error('the live-leaf index was not complete: the pass read every record');
  const names: string[] = [];
  for await (const leaf of leaves.due(nowMs)) names.push(leaf.commonName);
  return names;
}

export async function measureMovingPass(redis: Redis, inventory: Inventory): Promise<MovingPassFigures> {
  const nowMs = Date.now();
  // The loader's commit indexes every record; the index is marked complete by its first reindex.
  if (!(await inventory.liveLeafCounts(nowMs)).complete) await inventory.reindexLiveLeaves();
  const counts = (await inventory.liveLeafCounts(nowMs)).byIssuer;
  const leaving = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
  if (leaving === undefined) throw new Error('no live leaf to move');
  const early = planAt(nowMs, leaving, 0.01);
  const ended = planAt(nowMs, leaving, 1);
  const source = newSource(inventory);
  const first = await timedCommands(redis, () => indexPass(inventory, nowMs, early, source));
  const index = await timedCommands(redis, () => indexPass(inventory, nowMs, early, source));
  const allDue = await timedCommands(redis, () => indexPass(inventory, nowMs, ended));
  const scan = await timedCommands(redis, async () => (await scanLeaves(inventory, nowMs, early)).toMove.filter((leaf) => leaf.dueAtMs <= nowMs).map((leaf) => leaf.commonName));
  const sorted = (names: readonly string[]): string => [...names].sort().join('\n');
  return {
    moving_pass_index_first_ms: Math.round(first.ms),
    moving_pass_index_ms: Math.round(index.ms),
    moving_pass_index_commands: index.commands,
    moving_pass_index_due: index.value.length,
    moving_pass_index_all_due_ms: Math.round(allDue.ms),
    moving_pass_index_all_due_commands: allDue.commands,
    moving_pass_index_all_due: allDue.value.length,
    moving_pass_scan_ms: Math.round(scan.ms),
    moving_pass_scan_commands: scan.commands,
    moving_pass_scan_due: scan.value.length,
    moving_pass_scan_over_index: Number((scan.ms / Math.max(index.ms, 0.001)).toFixed(1)),
    moving_pass_agree: sorted(index.value) === sorted(scan.value) && sorted(first.value) === sorted(scan.value) && allDue.value.length === (counts.get(leaving) ?? -1),
  };
}
