// The queue hop's floor, without HTTP: what handing a job from a producer process (the gateway's
// part) to a consumer process (the ca-service's part) and its answer back costs, BullMQ as the
// product does it against a Redis request stream (hop-floor/paths.ts says what each path does).
// The consumer answers at once with a fixed result (BENCH_RESULT_BYTES_PER_ITEM per item, default
// 1,024), so what is measured is the hop alone. One redis-server as the stack's (AOF, appendfsync
// everysec); per path a producer and a consumer process, from the build output as the apps run
// (BENCH_RUN_FROM=source: through tsx).
//
// Loads: `lone` (one job of one item at a time: a lone client) and `2x8` (BENCH_JOBS_IN_FLIGHT jobs
// of BENCH_ITEMS items in flight, default 2 x 8: the 16-client steady state). Per load, after
// BENCH_WARMUP_SECONDS (default 2) per path, BENCH_ROUNDS (default 4) rounds of BENCH_SECONDS
// (default 4) per path, alternating which path goes first. Per round: round trip p50 / p99 (µs),
// round trips per second, CPU µs per round trip of producer, consumer and Redis (/proc), the load
// average and the machine's busy / idle shares. Per load and path over all rounds: Redis's
// commands per round trip from INFO commandstats (a script's inner commands counted too, and the
// AOF's bytes: RedisAccounting, whose `per_cert` fields are per round trip here); then one slice of
// BENCH_MONITOR_ROUND_TRIPS (default 300) round trips under MONITOR for the top-level commands per
// round trip by sender (MONITOR slows Redis: that slice is counted, not timed). Before any load the
// host line (a wake-up round trip between two processes and the idle policy, as bench:issue's).
// The summary line has the medians and the stream/bullmq ratios.
//   npx tsc -b tsconfig.json && npx tsx --conditions=development tools/bench/src/hop-floor-bench.ts
import { spawn, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { createRedisConnection, startRedisServer } from '@fsm-certs/queue';
import { benchEnvNumber } from './bench-env.js';
import { RedisAccounting } from './redis-accounting.js';
import { sampleCpu } from './issue/cpu.js';
import { machineShares, measureWakeupRoundTrip, readIdlePolicy, readMachineCpu } from './issue/host.js';
import { ownerOfSource } from './issue/monitor-owner.js';
import { commandName } from './issue/command-names.js';
import { benchRunFrom } from './issue/targets.js';
import { fromChildSchema, type FromChild, type HopRole, type RunMessage } from './hop-floor/protocol.js';
import { HOP_PATHS, commandsPerRoundTrip, loadSummary, roundFigures, type HopPath, type RoundFigures, type SeenCommand } from './hop-floor/summary.js';

const rounds = Math.max(1, benchEnvNumber('BENCH_ROUNDS', 4));
const seconds = benchEnvNumber('BENCH_SECONDS', 4);
const warmupSeconds = benchEnvNumber('BENCH_WARMUP_SECONDS', 2);
const jobsInFlight = Math.max(1, benchEnvNumber('BENCH_JOBS_IN_FLIGHT', 2));
const itemsPerJob = Math.max(1, benchEnvNumber('BENCH_ITEMS', 8));
const resultBytesPerItem = Math.max(0, benchEnvNumber('BENCH_RESULT_BYTES_PER_ITEM', 1024));
const monitorRoundTrips = Math.max(0, benchEnvNumber('BENCH_MONITOR_ROUND_TRIPS', 300));
/** A slice's bound in count, beside its bound in time. */
const MAX_ROUND_TRIPS_PER_SLICE = 2_000_000;
/** How long a child may take to start, or a slice past its time, before the bench gives up. */
const CHILD_GRACE_MS = 30_000;

const LOADS = [
  { name: 'lone', lanes: 1, items: 1 },
  { name: `${jobsInFlight}x${itemsPerJob}`, lanes: jobsInFlight, items: itemsPerJob },
] as const;

const round1 = (v: number): number => Math.round(v * 10) / 10;

/** The child's entry: the build output (each file no older than its source) or the source through tsx. */
function childEntry(): string[] {
  const source = fileURLToPath(new URL('./hop-floor/child.ts', import.meta.url));
  if (benchRunFrom() === 'source') return ['--import', 'tsx', '--conditions=development', source];
  const builtOf = (name: string): string => fileURLToPath(new URL(`../dist/hop-floor/${name}.js`, import.meta.url));
  // tsc -b rewrites only the outputs whose source changed, so each file is checked against its own.
  const stale = ['child', 'paths', 'protocol', 'summary'].filter((name) => {
    try {
      return statSync(fileURLToPath(new URL(`./hop-floor/${name}.ts`, import.meta.url))).mtimeMs > statSync(builtOf(name)).mtimeMs;
    } catch {
      return true;
    }
  });
  if (stale.length > 0) throw new Error(`tools/bench is not built or older than its source (${stale.join(', ')}): run \`npx tsc -b tsconfig.json\` first (or BENCH_RUN_FROM=source).`);
  return [builtOf('child')];
}

interface Child {
  readonly path: HopPath;
  readonly role: HopRole;
  readonly process: ChildProcess;
  readonly pid: number | undefined;
  next(timeoutMs: number): Promise<FromChild>;
}

function startChild(path: HopPath, role: HopRole, redisUrl: string, entry: readonly string[]): Child {
  const child = spawn(process.execPath, entry, {
    env: { ...process.env, REDIS_URL: redisUrl, HOP_ROLE: role, HOP_PATH: path, HOP_RESULT_BYTES_PER_ITEM: String(resultBytesPerItem) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const inbox: FromChild[] = [];
  let wake: (() => void) | undefined;
  let exited = false;
  child.on('message', (raw: unknown) => {
    inbox.push(fromChildSchema.parse(raw));
    wake?.();
  });
  child.once('exit', () => {
    exited = true;
    wake?.();
  });
  return {
    path,
    role,
    process: child,
    pid: child.pid,
    async next(timeoutMs) {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const message = inbox.shift();
        if (message?.type === 'failed') throw new Error(`${path} ${role}: ${message.error}`);
        if (message !== undefined) return message;
        if (exited) throw new Error(`${path} ${role} exited`);
        const left = deadline - performance.now();
        if (left <= 0) throw new Error(`${path} ${role} said nothing within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
    },
  };
}

async function stopChild(child: Child): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.process.once('exit', () => resolve()));
  if (child.process.connected) child.process.send({ type: 'stop' });
  else child.process.kill('SIGTERM');
  const killer = setTimeout(() => child.process.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(killer);
}

interface Ran {
  readonly roundTrips: number;
  readonly elapsedMs: number;
  readonly latenciesUs: readonly number[];
}

async function drive(producer: Child, message: Omit<RunMessage, 'type'>): Promise<Ran> {
  producer.process.send({ type: 'run', ...message });
  const reply = await producer.next(message.ms + CHILD_GRACE_MS);
  if (reply.type !== 'ran') throw new Error(`${producer.path} producer answered ${reply.type}`);
  if (reply.errors > 0) throw new Error(`${producer.path} producer: ${reply.errors} round trips failed (${reply.firstError ?? '?'})`);
  return reply;
}

const host = { wakeup_round_trip: await measureWakeupRoundTrip(), idle_policy: readIdlePolicy() };
console.log(JSON.stringify({ host, load_avg_1m: round1(loadavg()[0] ?? NaN) }));

const entry = childEntry();
const server = await startRedisServer({ appendOnly: true });
const probe = createRedisConnection(server.url, { role: 'client', connectionName: 'hop-floor-bench' });
const children: Child[] = [];
try {
  const pairs = new Map<HopPath, { producer: Child; consumer: Child }>();
  let payloadBytes: number | undefined;
  for (const path of HOP_PATHS) {
    // The consumer first: the stream's consumer group must exist before the first request.
    const consumer = startChild(path, 'consumer', server.url, entry);
    children.push(consumer);
    await consumer.next(CHILD_GRACE_MS);
    const producer = startChild(path, 'producer', server.url, entry);
    children.push(producer);
    const ready = await producer.next(CHILD_GRACE_MS);
    if (ready.type === 'ready') payloadBytes = ready.payloadBytes;
    pairs.set(path, { producer, consumer });
  }
  const pair = (path: HopPath): { producer: Child; consumer: Child } => {
    const p = pairs.get(path);
    if (p === undefined) throw new Error(`no ${path} processes`);
    return p;
  };

  const figures: RoundFigures[] = [];
  const loads: Record<string, unknown>[] = [];
  for (const load of LOADS) {
    const slice = { lanes: load.lanes, items: load.items, maxRoundTrips: MAX_ROUND_TRIPS_PER_SLICE };
    for (const path of HOP_PATHS) await drive(pair(path).producer, { ...slice, ms: warmupSeconds * 1000 });
    const accounting = new Map<HopPath, RedisAccounting>(HOP_PATHS.map((p) => [p, new RedisAccounting(probe)]));
    for (let r = 1; r <= rounds; r += 1) {
      for (const path of r % 2 === 1 ? HOP_PATHS : [...HOP_PATHS].reverse()) {
        const { producer, consumer } = pair(path);
        const pids = { producer: producer.pid, consumer: consumer.pid, redis: server.pid };
        const before = sampleCpu(pids);
        await accounting.get(path)?.begin();
        const machineBefore = readMachineCpu();
        const ran = await drive(producer, { ...slice, ms: seconds * 1000 });
        const machineAfter = readMachineCpu();
        const after = sampleCpu(pids);
        await accounting.get(path)?.end(ran.roundTrips);
        const spent = (name: keyof typeof pids): number | undefined => {
          const a = after[name];
          const b = before[name];
          return a === undefined || b === undefined ? undefined : a - b;
        };
        const f = roundFigures({
          path,
          load: load.name,
          round: r,
          items: load.items,
          roundTrips: ran.roundTrips,
          elapsedMs: ran.elapsedMs,
          latenciesUs: ran.latenciesUs,
          cpuMs: { producer: spent('producer'), consumer: spent('consumer'), redis: spent('redis') },
        });
        figures.push(f);
        console.log(JSON.stringify({ ...f, load_avg_1m: round1(loadavg()[0] ?? NaN), machine_pct: machineShares(machineBefore, machineAfter) }));
      }
    }

    // Counted, not timed: the top-level commands of each path's round trips, by sender.
    const monitored: Record<string, unknown> = {};
    if (monitorRoundTrips > 0) {
      const watcher = new Redis(server.url);
      const monitor = await watcher.monitor();
      const owners = new Map<string, string>();
      let seen: SeenCommand[] | undefined;
      let pids: Record<string, number | undefined> = {};
      monitor.on('monitor', (_time: string, args: string[], source: string) => {
        if (source === 'lua' || seen === undefined) return;
        seen.push({ owner: ownerOfSource(source, pids, owners), command: commandName(args) });
      });
      try {
        for (const path of HOP_PATHS) {
          const { producer, consumer } = pair(path);
          pids = { producer: producer.pid, consumer: consumer.pid };
          owners.clear();
          const lines: SeenCommand[] = [];
          seen = lines;
          const ran = await drive(producer, { ...slice, ms: 60_000, maxRoundTrips: monitorRoundTrips });
          // MONITOR's lines of the last round trips may still be on their way.
          await probe.ping();
          await watcher.ping().catch(() => undefined);
          seen = undefined;
          monitored[path] = commandsPerRoundTrip(lines, ran.roundTrips, ['producer', 'consumer']);
        }
      } finally {
        monitor.disconnect();
        watcher.disconnect();
      }
    }

    const summary = loadSummary(load.name, figures);
    loads.push({
      ...summary,
      redis_commandstats_per_round_trip: Object.fromEntries(HOP_PATHS.map((p) => [p, accounting.get(p)?.report(12)])),
      top_level_commands_per_round_trip: monitored,
    });
  }
  console.log(
    JSON.stringify({
      summary: true,
      host,
      payload_bytes_per_item: payloadBytes,
      result_bytes_per_item: resultBytesPerItem,
      rounds,
      seconds,
      loads,
      load_avg_1m: round1(loadavg()[0] ?? NaN),
    }),
  );
} finally {
  await Promise.all(children.map(stopChild));
  probe.disconnect();
  await server.stop();
}
