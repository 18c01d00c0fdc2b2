// Where Redis's work per certificate goes, by counts that hold under load (issue 15): the
// commands it ran (INFO commandstats: calls and µs per command; a script's inner commands are
// counted on their own and inside EVALSHA's time) and the bytes it appended to its AOF, read
// back from the AOF's incremental file and split by command and key class (`HSET inv:cert:*`,
// `XADD issue:events`, ...). Redis 7 writes a script's effects, not the EVALSHA, so the split
// shows what each script stores. A slice whose AOF file changed (a rewrite started a new
// incremental file) is left out of the AOF split, as a rewrite shrinks the file. With
// `appendfsync everysec` Redis may hold a write back while an fsync runs (up to 2 s), so a few
// bytes can land in the next slice; summed over rounds the split holds.
// Used by bench:ca and bench:issue around their measured slices.
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Redis } from 'ioredis';

interface Counters {
  readonly commands: ReadonlyMap<string, { readonly calls: number; readonly usec: number }>;
  /** The incremental AOF file and its size, when Redis appends to one. */
  readonly aof: { readonly file: string; readonly size: number } | undefined;
}

/** Top-level commands a benchmark's own probes send; not the system's work. */
const PROBES = new Set(['info', 'config', 'slowlog', 'monitor', 'client', 'ping']);

/** `{prefix}:inv:cert:a.b.c` -> `inv:cert:*`: a key's segments, ids and names replaced by `*`. */
export function keyClass(key: string): string {
  const tagEnd = key.indexOf('}:');
  const rest = tagEnd >= 0 ? key.slice(tagEnd + 2) : key;
  return rest
    .split(':')
    .map((segment) => (/^[a-z][a-z-]{0,23}$/.test(segment) ? segment : '*'))
    .join(':');
}

/** Commands whose first argument is not a key. */
const KEYLESS = new Set(['MULTI', 'EXEC', 'SELECT', 'SCRIPT', 'FUNCTION', 'FLUSHALL', 'FLUSHDB']);

/**
 * Splits RESP-encoded commands (what an AOF holds) into bytes per `COMMAND key-class`. Stops at
 * the first incomplete or malformed command; what follows is counted as `(unparsed)`.
 */
export function aofBytesByKind(text: Buffer): Map<string, number> {
  const out = new Map<string, number>();
  const add = (kind: string, bytes: number): void => {
    out.set(kind, (out.get(kind) ?? 0) + bytes);
  };
  let at = 0;
  const line = (): string | undefined => {
    const end = text.indexOf('\r\n', at, 'latin1');
    if (end < 0) return undefined;
    const value = text.toString('latin1', at, end);
    at = end + 2;
    return value;
  };
  while (at < text.length) {
    const start = at;
    const head = line();
    const count = head?.startsWith('*') === true ? Number(head.slice(1)) : NaN;
    const args: string[] = [];
    let ok = Number.isInteger(count) && count > 0;
    for (let i = 0; ok && i < count; i++) {
      const len = line();
      const n = len?.startsWith('$') === true ? Number(len.slice(1)) : NaN;
      if (!Number.isInteger(n) || n < 0 || at + n + 2 > text.length) {
        ok = false;
        break;
      }
      // Only the command and its key are needed; values may be binary and long.
      if (i < 2) args.push(text.toString('latin1', at, at + Math.min(n, 512)));
      at += n + 2;
    }
    if (!ok) {
      add('(unparsed)', text.length - start);
      break;
    }
    const command = (args[0] ?? '?').toUpperCase();
    add(KEYLESS.has(command) || args[1] === undefined ? command : `${command} ${keyClass(args[1])}`, at - start);
  }
  return out;
}

async function aofFile(redis: Redis): Promise<string | undefined> {
  const config = (await redis.config('GET', 'dir', 'appendonly', 'appenddirname')) as unknown;
  if (!Array.isArray(config)) return undefined;
  const values = new Map<string, string>();
  for (let i = 0; i + 1 < config.length; i += 2) values.set(String(config[i]), String(config[i + 1]));
  if (values.get('appendonly') !== 'yes') return undefined;
  const dir = path.join(values.get('dir') ?? '.', values.get('appenddirname') ?? 'appendonlydir');
  const manifests = ['appendonly.aof.manifest'];
  for (const manifest of manifests) {
    let text: string;
    try {
      text = readFileSync(path.join(dir, manifest), 'utf8');
    } catch {
      continue;
    }
    // The last incremental file of the manifest is the one Redis appends to.
    const incr = [...text.matchAll(/^file (\S+) seq \d+ type i$/gm)].map((m) => m[1]).at(-1);
    if (incr !== undefined) return path.join(dir, incr);
  }
  return undefined;
}

async function sample(redis: Redis): Promise<Counters> {
  const [stats, file] = await Promise.all([redis.info('commandstats'), aofFile(redis)]);
  const commands = new Map<string, { calls: number; usec: number }>();
  for (const match of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    const [, name, calls, usec] = match;
    if (name !== undefined) commands.set(name, { calls: Number(calls), usec: Number(usec) });
  }
  let aof: Counters['aof'];
  if (file !== undefined) {
    try {
      aof = { file, size: statSync(file).size };
    } catch {
      aof = undefined;
    }
  }
  return { commands, aof };
}

function readRange(file: string, from: number, to: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(to - from);
    let read = 0;
    while (read < buffer.length) {
      const n = readSync(fd, buffer, read, buffer.length - read, from + read);
      if (n === 0) break;
      read += n;
    }
    return buffer.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

const round = (value: number, digits: number): number => Number(value.toFixed(digits));

/**
 * Sums Redis's commands and AOF bytes over measured slices: `begin()` before a slice, `end(certs)`
 * after it, `report()` per certificate over all of them.
 */
export class RedisAccounting {
  private certs = 0;
  private aofCerts = 0;
  private slices = 0;
  private aofSlices = 0;
  private readonly commands = new Map<string, { calls: number; usec: number }>();
  private readonly aofBytes = new Map<string, number>();
  private started: Promise<Counters> | undefined;

  constructor(private readonly redis: Redis) {}

  /** Starts a slice (may be called without awaiting: end() waits for it). Never rejects. */
  begin(): Promise<void> {
    const started = sample(this.redis);
    this.started = started;
    return started.then(
      () => undefined,
      () => undefined,
    );
  }

  /** Ends a slice of `certs` certificates; a slice whose samples failed is left out. */
  async end(certs: number): Promise<void> {
    const started = this.started;
    this.started = undefined;
    if (started === undefined) return;
    let before: Counters;
    let after: Counters;
    try {
      before = await started;
      after = await sample(this.redis);
    } catch {
      return;
    }
    this.certs += certs;
    this.slices += 1;
    for (const [name, end] of after.commands) {
      if (PROBES.has(name)) continue;
      const start = before.commands.get(name) ?? { calls: 0, usec: 0 };
      const sum = this.commands.get(name) ?? { calls: 0, usec: 0 };
      this.commands.set(name, { calls: sum.calls + end.calls - start.calls, usec: sum.usec + end.usec - start.usec });
    }
    if (before.aof !== undefined && after.aof !== undefined && before.aof.file === after.aof.file && after.aof.size >= before.aof.size) {
      for (const [kind, bytes] of aofBytesByKind(readRange(after.aof.file, before.aof.size, after.aof.size))) {
        this.aofBytes.set(kind, (this.aofBytes.get(kind) ?? 0) + bytes);
      }
      this.aofCerts += certs;
      this.aofSlices += 1;
    }
  }

  /**
   * Per certificate: Redis's µs in commands (EVALSHA's time includes its inner commands, so the
   * top-level total is `evalsha` plus the commands sent on their own), `[calls, µs]` of the `top`
   * costliest commands, and the AOF's bytes with the `top` largest kinds.
   */
  report(top = 10): Record<string, unknown> {
    const certs = this.certs;
    if (certs === 0) return { certs };
    const entries = [...this.commands].filter(([, v]) => v.calls > 0);
    // Commands run inside a script are counted again under evalsha, so the sum over top-level
    // commands is evalsha's and evals plus those sent alone; the inner ones are shown separately.
    const commands = Object.fromEntries(
      entries
        .sort((a, b) => b[1].usec - a[1].usec)
        .slice(0, top)
        .map(([name, v]) => [name, [round(v.calls / certs, 2), round(v.usec / certs, 1)]]),
    );
    const aofTotal = [...this.aofBytes.values()].reduce((a, b) => a + b, 0);
    // A slice an AOF rewrite touched is not counted (its incremental file changed).
    const aof =
      this.aofCerts === 0
        ? { slices_counted: 0, of: this.slices }
        : {
            slices_counted: this.aofSlices,
            of: this.slices,
            bytes_per_cert: Math.round(aofTotal / this.aofCerts),
            by_kind: Object.fromEntries(
              [...this.aofBytes]
                .sort((a, b) => b[1] - a[1])
                .slice(0, top)
                .map(([kind, bytes]) => [kind, Math.round(bytes / this.aofCerts)]),
            ),
          };
    return { certs, commands_calls_us_per_cert: commands, aof };
  }
}
