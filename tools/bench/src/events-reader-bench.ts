// The gateway's events reader alone (FinishedJobReader, libs/queue), this checkout's against
// BENCH_BASELINE's build of it, in one process on one redis-server. Each side has its own events
// stream; BENCH_JOBS_IN_FLIGHT (default 2) lanes each watch a job, then write its entries as
// BullMQ does (`added` + `waiting`, then `active`, then `completed` with a BENCH_RESULT_BYTES
// result, default 12,058: a 7-item v2 result) and wait for the reader to deliver the result. A
// third side writes the same entries with no reader waiting, so the writer's own cost can be
// taken off. Interleaved rounds; prints per job the process's CPU µs and the bytes allocated on
// the V8 heap (heap-meter.ts), each side minus the writer alone.
//   BENCH_BASELINE=/path/to/built/checkout npx tsx --conditions=development tools/bench/src/events-reader-bench.ts
import { loadavg } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { FinishedJobReader, createRedisConnection, startRedisServer } from '@fsm-certs/queue';
import type { Redis } from 'ioredis';
import { heapAllocationMeter } from './heap-meter.js';
import { driveLanes, median } from './measure.js';
import { benchEnvNumber } from './bench-env.js';

const baseline = process.env['BENCH_BASELINE'];
if (baseline === undefined || baseline === '') throw new Error('Set BENCH_BASELINE to a built checkout to compare with.');
const seconds = benchEnvNumber('BENCH_SECONDS', 3);
const rounds = Math.max(1, benchEnvNumber('BENCH_ROUNDS', 6));
const inFlight = Math.max(1, benchEnvNumber('BENCH_JOBS_IN_FLIGHT', 2));
const resultBytes = benchEnvNumber('BENCH_RESULT_BYTES', 12_058);

type ReaderClass = typeof FinishedJobReader;
const baselineModule = (await import(pathToFileURL(path.join(baseline, 'libs/queue/dist/events/finished-jobs.js')).href)) as { FinishedJobReader: ReaderClass };

/** A result of about resultBytes bytes of JSON, shaped like a v2 result (records of strings). */
function result(): string {
  const record = (i: number) => ({ requestId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, ok: true, certificate: { serial: 'ab'.repeat(10), pem: '' } });
  const results = Array.from({ length: 7 }, (_, i) => record(i));
  const base = JSON.stringify({ version: 2, results }).length;
  const pad = Math.max(0, Math.floor((resultBytes - base) / 7));
  for (const r of results) r.certificate.pem = 'M'.repeat(pad);
  return JSON.stringify({ version: 2, results });
}

interface Side {
  readonly name: 'this' | 'baseline' | 'writer-alone';
  readonly key: string;
  readonly reader: FinishedJobReader | undefined;
}

const server = await startRedisServer();
const writer = createRedisConnection(server.url, { role: 'client' });
const connections: Redis[] = [writer];
const returnvalue = result();

async function side(name: Side['name'], Reader: ReaderClass | undefined): Promise<Side> {
  const prefix = `{bench-${name}}`;
  const key = `${prefix}:issue:events`;
  await writer.xadd(key, '*', 'event', 'drained');
  if (Reader === undefined) return { name, key, reader: undefined };
  const connection = createRedisConnection(server.url, { role: 'worker' });
  connections.push(connection);
  const reader = new Reader(connection, 'issue', { prefix });
  await reader.start();
  return { name, key, reader };
}

let jobs = 0;
/** One job's entries as BullMQ writes them (three writes: add, take, finish), the result awaited. */
async function job(s: Side): Promise<void> {
  jobs += 1;
  const jobId = `bench-${jobs}`;
  const delivered =
    s.reader === undefined
      ? undefined
      : new Promise<void>((resolve, reject) => s.reader?.watch(jobId, { resolve: () => resolve(), reject }));
  await writer.pipeline().xadd(s.key, '*', 'event', 'added', 'jobId', jobId, 'name', 'issue-batch').xadd(s.key, '*', 'event', 'waiting', 'jobId', jobId).exec();
  await writer.xadd(s.key, '*', 'event', 'active', 'jobId', jobId, 'prev', 'waiting');
  await writer.xadd(s.key, '*', 'event', 'completed', 'jobId', jobId, 'returnvalue', returnvalue, 'prev', 'active');
  await delivered;
}

async function round(s: Side): Promise<{ cpuUs: number; bytes: number }> {
  const allocated = heapAllocationMeter();
  const cpu = process.cpuUsage();
  const done = await driveLanes(inFlight, seconds * 1000, async () => {
    await job(s);
    return 1;
  });
  const used = process.cpuUsage(cpu);
  const bytes = allocated();
  await writer.xtrim(s.key, 'MAXLEN', 100);
  return { cpuUs: (used.user + used.system) / done, bytes: bytes / done };
}

const sides = [await side('this', FinishedJobReader), await side('baseline', baselineModule.FinishedJobReader), await side('writer-alone', undefined)];
const perSide = new Map<Side['name'], Array<{ cpuUs: number; bytes: number }>>(sides.map((s) => [s.name, []]));
// Warm-up: JIT tiers settle.
for (const s of sides) await round(s);
for (let r = 0; r < rounds; r += 1) {
  const order = r % 2 === 0 ? sides : [...sides].reverse();
  const line: Record<string, unknown> = { round: r + 1, load_avg_1m: Number(loadavg()[0]?.toFixed(2)) };
  for (const s of order) {
    const m = await round(s);
    perSide.get(s.name)?.push(m);
    line[s.name] = { cpu_us_per_job: Math.round(m.cpuUs), heap_bytes_per_job: Math.round(m.bytes) };
  }
  console.log(JSON.stringify(line));
}
const writerAlone = perSide.get('writer-alone') ?? [];
const summary: Record<string, unknown> = { result_bytes: returnvalue.length, jobs_in_flight: inFlight };
for (const name of ['this', 'baseline'] as const) {
  const ms = perSide.get(name) ?? [];
  summary[name] = {
    reader_cpu_us_per_job_rounds: ms.map((m, i) => Math.round(m.cpuUs - (writerAlone[i]?.cpuUs ?? 0))),
    reader_cpu_us_per_job: Math.round(median(ms.map((m) => m.cpuUs)) - median(writerAlone.map((m) => m.cpuUs))),
    reader_heap_bytes_per_job: Math.round(median(ms.map((m) => m.bytes)) - median(writerAlone.map((m) => m.bytes))),
  };
}
console.log(JSON.stringify({ summary }));
for (const s of sides) await s.reader?.close();
for (const c of connections) c.disconnect();
await server.stop();
