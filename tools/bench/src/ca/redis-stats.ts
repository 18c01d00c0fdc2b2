// What Redis did per certificate, from its own counters: INFO commandstats (calls and µs spent
// per command; a script's inner commands are counted both on their own and inside EVALSHA's
// time), INFO stats (bytes in and out) and INFO persistence (the AOF's growth: what the disk
// takes per certificate). Sampled around a measured slice, so the difference
// is that slice's work; the INFO calls themselves are a few per slice.
import type { Redis } from 'ioredis';

export interface RedisCounters {
  readonly commands: ReadonlyMap<string, { readonly calls: number; readonly usec: number }>;
  readonly netInputBytes: number;
  readonly netOutputBytes: number;
  /** The AOF's size (aof_current_size): its growth is what was written, unless a rewrite ran. */
  readonly aofBytes: number;
  /** Rewrites started so far (counted when one starts; the size drops when it ends). */
  readonly aofRewrites: number;
  readonly aofRewriteInProgress: boolean;
}

function field(text: string, name: string): number {
  const match = new RegExp(`^${name}:(\\d+)`, 'm').exec(text);
  return match?.[1] === undefined ? 0 : Number(match[1]);
}

export async function sampleRedis(redis: Redis): Promise<RedisCounters> {
  const [commandstats, stats, persistence] = await Promise.all([redis.info('commandstats'), redis.info('stats'), redis.info('persistence')]);
  const commands = new Map<string, { calls: number; usec: number }>();
  for (const match of commandstats.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    const [, name, calls, usec] = match;
    if (name !== undefined) commands.set(name, { calls: Number(calls), usec: Number(usec) });
  }
  return {
    commands,
    netInputBytes: field(stats, 'total_net_input_bytes'),
    netOutputBytes: field(stats, 'total_net_output_bytes'),
    aofBytes: field(persistence, 'aof_current_size'),
    aofRewrites: field(persistence, 'aof_rewrites'),
    aofRewriteInProgress: field(persistence, 'aof_rewrite_in_progress') === 1,
  };
}

/** Per certificate: calls and µs of each command that ran, bytes in and out (info and monitoring commands left out). */
export function perCert(before: RedisCounters, after: RedisCounters, certs: number): Record<string, number | Record<string, [number, number]>> {
  const commands: Record<string, [number, number]> = {};
  for (const [name, end] of after.commands) {
    if (name === 'info' || certs === 0) continue;
    const start = before.commands.get(name) ?? { calls: 0, usec: 0 };
    const calls = end.calls - start.calls;
    if (calls <= 0) continue;
    commands[name] = [Number((calls / certs).toFixed(2)), Number(((end.usec - start.usec) / certs).toFixed(1))];
  }
  const sorted = Object.fromEntries(Object.entries(commands).sort((a, b) => b[1][1] - a[1][1]));
  return {
    in_bytes: certs === 0 ? 0 : Math.round((after.netInputBytes - before.netInputBytes) / certs),
    out_bytes: certs === 0 ? 0 : Math.round((after.netOutputBytes - before.netOutputBytes) / certs),
    commands: sorted,
  };
}

/**
 * BENCH_SLOWLOG=1: every top-level command's duration from Redis's slow log (threshold 0), summed
 * per script (BullMQ's by name, ours by the first key they touch) or command. The slow log costs
 * Redis CPU itself (it copies every command's arguments), so a run with it is for reading where
 * Redis's time goes, not for comparing CPU figures.
 */
export class ScriptTimes {
  private readonly names = new Map<string, string>();
  readonly totals = new Map<string, { calls: number; usec: number }>();

  constructor(scripts: ReadonlyArray<{ readonly name: string; readonly sha1: string }>) {
    for (const s of scripts) this.names.set(s.sha1, s.name);
  }

  static async start(redis: Redis): Promise<void> {
    await redis.config('SET', 'slowlog-log-slower-than', '0');
    await redis.config('SET', 'slowlog-max-len', '100000');
    await redis.slowlog('RESET');
  }

  /** Reads and clears the slow log, adding its entries to the totals. */
  async collect(redis: Redis): Promise<void> {
    const entries = (await redis.slowlog('GET', '-1')) as unknown[];
    await redis.slowlog('RESET');
    for (const entry of entries) {
      if (!Array.isArray(entry)) continue;
      const usec = Number(entry[2]);
      const args = Array.isArray(entry[3]) ? entry[3].map(String) : [];
      const command = (args[0] ?? '?').toLowerCase();
      let name = command;
      if (command === 'evalsha') {
        const sha = args[1] ?? '';
        const firstKey = Number(args[2]) > 0 ? (args[3] ?? '') : '';
        name = `evalsha ${this.names.get(sha) ?? `${sha.slice(0, 8)} ${firstKey.replace(/^[^:]*:/, '')}`}`;
      }
      if (command === 'slowlog' || command === 'info' || command === 'config') continue;
      const sum = this.totals.get(name) ?? { calls: 0, usec: 0 };
      this.totals.set(name, { calls: sum.calls + 1, usec: sum.usec + usec });
    }
  }

  perCert(certs: number): Record<string, [number, number]> {
    return Object.fromEntries(
      [...this.totals]
        .sort((a, b) => b[1].usec - a[1].usec)
        .map(([name, v]) => [name, [Number((v.calls / certs).toFixed(2)), Number((v.usec / certs).toFixed(1))] as [number, number]]),
    );
  }
}
