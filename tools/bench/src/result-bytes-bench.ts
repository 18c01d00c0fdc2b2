// What an issue job's result costs Redis by its size alone (issue 15): BullMQ's moveToFinished
// writes the whole result into the `completed` event of the queue's events stream (the AOF takes
// it, every events reader receives it). Two redis-servers configured as the stack's (AOF,
// everysec) take turns in interleaved rounds; on each, BENCH_JOBS_IN_FLIGHT (default 2) lanes
// each add a `completed`-sized event through a script (XADD of the value passed in, then
// XTRIM MAXLEN ~ 10000, as moveToFinished does) and wait until a reader blocked in XREAD (as the
// gateway's) has delivered it. One server gets events of BENCH_RESULT_BYTES (default 12,058: a
// 7-item v2 result measured in bench:ca's AOF), the other of BENCH_SMALL_RESULT_BYTES (default
// 700: what naming each item's stored certificate would take). Prints Redis's CPU per job.
//   npx tsx --conditions=development tools/bench/src/result-bytes-bench.ts
import { loadavg } from 'node:os';
import { createRedisConnection, startRedisServer, type RedisServerHandle } from '@fsm-certs/queue';
import type { Redis } from 'ioredis';
import { cpuMillis } from './issue/cpu.js';
import { driveLanes, median } from './measure.js';
import { benchEnvNumber } from './bench-env.js';

const seconds = benchEnvNumber('BENCH_SECONDS', 3);
const rounds = Math.max(1, benchEnvNumber('BENCH_ROUNDS', 6));
const inFlight = Math.max(1, benchEnvNumber('BENCH_JOBS_IN_FLIGHT', 2));
const sizes = { large: benchEnvNumber('BENCH_RESULT_BYTES', 12_058), small: benchEnvNumber('BENCH_SMALL_RESULT_BYTES', 700) };
const KEY = '{fsm-certs}:issue:events';
const FINISH = `redis.call('XADD', KEYS[1], '*', 'event', 'completed', 'jobId', ARGV[1], 'returnvalue', ARGV[2], 'prev', 'active')
redis.call('XTRIM', KEYS[1], 'MAXLEN', '~', 10000)
return 1`;

interface Side {
  readonly name: keyof typeof sizes;
  readonly server: RedisServerHandle;
  readonly writer: Redis;
  readonly reader: Redis;
  readonly waiters: Map<string, () => void>;
  stopReader: boolean;
  reading: Promise<void>;
}

async function readLoop(side: Side): Promise<void> {
  let last = '$';
  while (!side.stopReader) {
    const reply = (await side.reader.xread('BLOCK', 200, 'STREAMS', KEY, last)) as Array<[string, Array<[string, string[]]>]> | null;
    for (const [, entries] of reply ?? []) {
      for (const [id, fields] of entries) {
        last = id;
        const jobId = fields[fields.indexOf('jobId') + 1];
        if (jobId !== undefined) side.waiters.get(jobId)?.();
      }
    }
  }
}

async function startSide(name: keyof typeof sizes): Promise<Side> {
  const server = await startRedisServer({ appendOnly: true });
  const writer = createRedisConnection(server.url, { role: 'client' });
  const reader = createRedisConnection(server.url, { role: 'worker' });
  const side: Side = { name, server, writer, reader, waiters: new Map(), stopReader: false, reading: Promise.resolve() };
  await reader.xadd(KEY, '*', 'event', 'start');
  side.reading = readLoop(side);
  return side;
}

let jobs = 0;
function drive(side: Side, ms: number): Promise<number> {
  const value = 'x'.repeat(sizes[side.name]);
  return driveLanes(inFlight, ms, async () => {
    const jobId = String((jobs += 1));
    const seen = new Promise<void>((resolve) => side.waiters.set(jobId, resolve));
    await side.writer.eval(FINISH, 1, KEY, jobId, value);
    await seen;
    side.waiters.delete(jobId);
    return 1;
  });
}

const sides = [await startSide('large'), await startSide('small')];
try {
  for (const side of sides) await drive(side, 2000);
  const perJob = new Map<string, number[]>(sides.map((s) => [s.name, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const side of round % 2 === 1 ? sides : [...sides].reverse()) {
      const before = cpuMillis(side.server.pid) ?? NaN;
      const count = await drive(side, seconds * 1000);
      const us = Math.round((((cpuMillis(side.server.pid) ?? NaN) - before) * 1000) / count);
      perJob.get(side.name)?.push(us);
      console.log(JSON.stringify({ result_bytes: sizes[side.name], round, jobs: count, redis_cpu_us_per_job: us, load_avg_1m: Number(loadavg()[0]?.toFixed(2)) }));
    }
  }
  const large = perJob.get('large') ?? [];
  const small = perJob.get('small') ?? [];
  console.log(
    JSON.stringify({
      summary: true,
      result_bytes: sizes,
      median_redis_cpu_us_per_job: { large: median(large), small: median(small) },
      large_minus_small_per_round: large.map((l, i) => l - (small[i] ?? NaN)),
      load_avg_1m: Number(loadavg()[0]?.toFixed(2)),
    }),
  );
} finally {
  for (const side of sides) {
    side.stopReader = true;
    await side.reading.catch(() => undefined);
    side.writer.disconnect();
    side.reader.disconnect();
    await side.server.stop();
  }
}
