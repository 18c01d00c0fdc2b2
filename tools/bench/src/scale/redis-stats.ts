// What the scale bench reads from Redis itself: memory in use and per-command call counts (the
// latter include commands run inside Lua scripts, which is where the inventory's work happens).
import type { Redis } from 'ioredis';

export async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  const match = /^used_memory:(\d+)/m.exec(info);
  if (match?.[1] === undefined) throw new Error('INFO memory has no used_memory');
  return Number(match[1]);
}

/** MEMORY USAGE of a key counting every element (SAMPLES 0: exact, O(n)); 0 when absent. */
export async function keyMemory(redis: Redis, key: string): Promise<number> {
  return (await redis.memory('USAGE', key, 'SAMPLES', '0')) ?? 0;
}

/** `cmdstat_<name>:calls=N,...` lines of INFO commandstats as name -> calls. */
export function parseCommandStats(info: string): Record<string, number> {
  const calls: Record<string, number> = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    const [, name, count] = match;
    if (name !== undefined && count !== undefined) calls[name] = Number(count);
  }
  return calls;
}

/**
 * Runs `work` and returns the Redis commands it caused, by name, as the delta of INFO
 * commandstats (the INFO calls themselves are left out). Nothing else may use this Redis meanwhile.
 */
export async function countCommands(redis: Redis, work: () => Promise<unknown>): Promise<{ total: number; byCommand: Record<string, number> }> {
  const before = parseCommandStats(await redis.info('commandstats'));
  await work();
  const after = parseCommandStats(await redis.info('commandstats'));
  const byCommand: Record<string, number> = {};
  let total = 0;
  for (const [name, calls] of Object.entries(after)) {
    const delta = calls - (before[name] ?? 0) - (name === 'info' ? 1 : 0);
    if (delta > 0) {
      byCommand[name] = delta;
      total += delta;
    }
  }
  return { total, byCommand };
}
