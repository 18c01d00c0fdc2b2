// `npm run bench:ca`: the ca-service alone, fed straight through BullMQ (no gateway, no HTTP),
// so its CPU per certificate and Redis's can be compared with another checkout's on a busy
// machine. Each system (this checkout, and BENCH_BASELINE's when given) runs as bench:issue runs
// it (the apps from the build output, a private Redis with its AOF); this process adds `issue`
// jobs of BENCH_ITEMS (default 7) new names with BENCH_JOBS_IN_FLIGHT (default 2) in flight, as
// the gateway's batches arrive at 16 clients. The systems take turns in slices of BENCH_SECONDS
// (default 3) for BENCH_ROUNDS (default 8) rounds, order alternating, after BENCH_WARMUP_SECONDS
// (default 8) each; the figures are CPU time from /proc, so a neighbour's load inflates both
// alike. Only the ca-service and Redis are reported: the idle gateway and rotation-worker are not
// part of the path. Besides the CPU per certificate it prints the ca-service's kernel share of it
// (`ca_service_sys_us_per_cert`: socket writes that wake Redis) and, per system over all rounds,
// Redis's own counters per certificate (`redis_per_cert`: bytes in and out, and per command
// [calls, µs]; see redis-stats.ts).
import { createHash, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import {
  DEFAULT_PREFIX,
  ISSUE_JOB_OPTIONS,
  ISSUE_JOB_OPTIONS_RESULT_BY_EVENT,
  JOB_NAMES,
  QUEUE_NAMES,
  createIssueQueue,
  createQueueEvents,
  createRedisConnection,
  type IssueJobPayload,
  type IssueQueue,
} from '@fsm-certs/queue';
import { startStack, type Stack } from '@fsm-certs/stack';
import { driveLanes, median } from '../measure.js';
import { cpuPerOp, sampleCpu } from '../issue/cpu.js';
import { BENCH_ENV, benchRunFrom } from '../issue/targets.js';
import { baselineStartStack } from '../issue/vault.js';
import { ScriptTimes, perCert, sampleRedis, type RedisCounters } from './redis-stats.js';
import { gcPerThousand, gcStatsEnabled, removeGcProbeDir, sampleGc, withGcProbe } from '../gc-stats.js';
import { RedisAccounting } from '../redis-accounting.js';
import { benchEnvNumber } from '../bench-env.js';

const seconds = benchEnvNumber('BENCH_SECONDS', 3);
const rounds = Math.max(1, benchEnvNumber('BENCH_ROUNDS', 8));
const warmupSeconds = benchEnvNumber('BENCH_WARMUP_SECONDS', 8);
const items = Math.max(1, benchEnvNumber('BENCH_ITEMS', 7));
const inFlight = Math.max(1, benchEnvNumber('BENCH_JOBS_IN_FLIGHT', 2));
const baseline = process.env['BENCH_BASELINE'];
const slowlog = process.env['BENCH_SLOWLOG'] === '1';
/** BENCH_BASELINE_KEEPS_JOBS=1: the baseline predates deleting completed issue jobs (main before 263f4a3), so its jobs are added as its gateway added them. */
const baselineKeepsJobs = process.env['BENCH_BASELINE_KEEPS_JOBS'] === '1';
/** BENCH_THIS_ENV: a JSON object of environment for this checkout's apps only, e.g. to weigh a setting against BENCH_BASELINE=<this checkout>. */
const thisEnv: Record<string, string> = JSON.parse(process.env['BENCH_THIS_ENV'] ?? '{}') as Record<string, string>;

/** BullMQ's scripts by the SHA-1 ioredis runs them under, to name them in the slow log. */
function bullmqScripts(): Array<{ name: string; sha1: string }> {
  const scripts: unknown = createRequire(import.meta.url)('bullmq/dist/cjs/scripts/index.js');
  if (typeof scripts !== 'object' || scripts === null) return [];
  return Object.values(scripts).flatMap((s: unknown) =>
    typeof s === 'object' && s !== null && 'name' in s && 'content' in s && typeof s.name === 'string' && typeof s.content === 'string'
      ? [{ name: s.name, sha1: createHash('sha1').update(s.content).digest('hex') }]
      : [],
  );
}

interface System {
  readonly name: string;
  readonly stack: Stack;
  readonly queue: IssueQueue;
  readonly events: ReturnType<typeof createQueueEvents>;
  readonly results: ResultsByEvent;
  /** A connection for INFO only. */
  readonly info: ReturnType<typeof createRedisConnection>;
  readonly pids: Record<string, number | undefined>;
  readonly dataDir: string;
  /** BENCH_GC=1: where the apps' GC probes write (gc-stats.ts). */
  readonly gcDir: string | undefined;
  disconnect(): void;
}

let names = 0;
function payload(): IssueJobPayload {
  const requests = Array.from({ length: items }, () => ({
    requestId: randomUUID(),
    commonName: `ca-${(names += 1)}.bench.cluster.local`,
    dnsNames: [],
    uris: [],
    ipAddresses: [],
    validityMs: 24 * 3_600_000,
    keyAlgorithm: 'ecdsa-p256' as const,
    reason: 'request' as const,
  }));
  return { version: 1, requests, resultVersion: 2, maxResultVersion: 3 };
}

async function startSystem(name: string, start: typeof startStack, env: Record<string, string> = {}): Promise<System> {
  const dataDir = mkdtempSync(path.join(tmpdir(), `bench-ca-${name}-`));
  const probe = gcStatsEnabled ? withGcProbe({ ...BENCH_ENV, ...env }) : undefined;
  const stack = await start({ dataDir, env: probe?.env ?? { ...BENCH_ENV, ...env }, runFrom: benchRunFrom() });
  await stack.waitReady(90_000);
  const connections = [
    createRedisConnection(stack.redisUrl, { role: 'client' }),
    createRedisConnection(stack.redisUrl, { role: 'worker' }),
    createRedisConnection(stack.redisUrl, { role: 'client' }),
  ] as const;
  // Closing the stack stops its Redis under these; their reconnect attempts are not news.
  for (const connection of connections) connection.on('error', () => undefined);
  const queue = createIssueQueue(connections[0], DEFAULT_PREFIX);
  const events = createQueueEvents(connections[1], QUEUE_NAMES.issue, DEFAULT_PREFIX);
  await events.waitUntilReady();
  const pids: Record<string, number | undefined> = { redis: stack.redis?.pid, 'ca-service': stack.app('ca-service').pid };
  return { name, stack, queue, events, results: new ResultsByEvent(events), info: connections[2], pids, dataDir, gcDir: probe?.dir, disconnect: () => connections.forEach((c) => c.disconnect()) };
}

interface Waiter {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/**
 * Job results from the `completed` events, as the gateway reads them: the waiter is registered
 * before its job is added (a job deleted as it completes cannot be looked up afterwards).
 */
class ResultsByEvent {
  private readonly waiters = new Map<string, Waiter>();
  /** Set by the first event delivered: the read loop runs, so later jobs need no lookup. */
  flowing = false;

  constructor(events: ReturnType<typeof createQueueEvents>) {
    events.on('completed', ({ jobId, returnvalue }) => {
      this.flowing = true;
      this.waiters.get(jobId)?.resolve(returnvalue);
    });
    events.on('failed', ({ jobId, failedReason }) => {
      this.flowing = true;
      this.waiters.get(jobId)?.reject(new Error(`job ${jobId} failed: ${failedReason}`));
    });
    events.on('added', () => {
      this.flowing = true;
    });
  }

  wait(jobId: string, timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(jobId);
        reject(new Error(`job ${jobId}: no result within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(jobId);
      };
      this.waiters.set(jobId, {
        resolve: (value) => {
          done();
          resolve(value);
        },
        reject: (error) => {
          done();
          reject(error);
        },
      });
    });
  }
}

/** Keeps `inFlight` jobs going for `ms`; returns the certificates issued. */
function drive(system: System, ms: number): Promise<number> {
  return driveLanes(inFlight, ms, async () => {
    // As each system's gateway adds jobs: once its events flow, they are deleted as they
    // complete (the result only in the `completed` event); a baseline from before that kept them.
    let returned: unknown;
    if (system.results.flowing) {
      const jobId = randomUUID();
      const result = system.results.wait(jobId, 30_000);
      result.catch(() => undefined);
      await system.queue.add(JOB_NAMES.issueBatch, payload(), { ...(system.name === 'baseline' && baselineKeepsJobs ? ISSUE_JOB_OPTIONS : ISSUE_JOB_OPTIONS_RESULT_BY_EVENT), jobId });
      returned = await result;
    } else {
      const job = await system.queue.add(JOB_NAMES.issueBatch, payload(), { ...ISSUE_JOB_OPTIONS });
      returned = await job.waitUntilFinished(system.events, 30_000);
    }
    const ok = typeof returned === 'object' && returned !== null && 'results' in returned && Array.isArray(returned.results) ? returned.results.filter((r: unknown) => typeof r === 'object' && r !== null && 'ok' in r && r.ok === true).length : 0;
    if (ok !== items) throw new Error(`${system.name}: a job answered ${ok} of ${items} items`);
    return ok;
  });
}

/** Kernel (system) CPU milliseconds of a process, from /proc/<pid>/stat's stime. */
function sysMillis(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[12]) * 1000) / 100;
}

/** Redis's counters summed over a system's measured slices. */
interface RedisTotals {
  certs: number;
  readonly before: RedisCounters[];
  readonly after: RedisCounters[];
  aofBytes: number;
  aofCerts: number;
}

function sumCounters(list: readonly RedisCounters[]): RedisCounters {
  const commands = new Map<string, { calls: number; usec: number }>();
  let netInputBytes = 0;
  let netOutputBytes = 0;
  let aofBytes = 0;
  let aofRewrites = 0;
  let aofRewriteInProgress = false;
  for (const c of list) {
    aofRewriteInProgress ||= c.aofRewriteInProgress;
    netInputBytes += c.netInputBytes;
    netOutputBytes += c.netOutputBytes;
    aofBytes += c.aofBytes;
    aofRewrites += c.aofRewrites;
    for (const [name, v] of c.commands) {
      const sum = commands.get(name) ?? { calls: 0, usec: 0 };
      commands.set(name, { calls: sum.calls + v.calls, usec: sum.usec + v.usec });
    }
  }
  return { commands, netInputBytes, netOutputBytes, aofBytes, aofRewrites, aofRewriteInProgress };
}

function prefixed(prefix: string, record: Record<string, number> | undefined): Record<string, number> {
  return Object.fromEntries(Object.entries(record ?? {}).map(([k, v]) => [prefix + k, v]));
}

const systems: System[] = [];
try {
  systems.push(await startSystem('this', startStack, thisEnv));
  if (baseline !== undefined && baseline !== '') systems.push(await startSystem('baseline', await baselineStartStack(baseline)));
  for (const system of systems) await drive(system, warmupSeconds * 1000);
  const results = new Map<string, Array<Record<string, number>>>(systems.map((s) => [s.name, []]));
  const redisTotals = new Map<string, RedisTotals>(systems.map((s) => [s.name, { certs: 0, before: [], after: [], aofBytes: 0, aofCerts: 0 }]));
  const scriptTimes = new Map<string, ScriptTimes>(systems.map((s) => [s.name, new ScriptTimes(bullmqScripts())]));
  const accounting = new Map(systems.map((s) => [s.name, new RedisAccounting(s.info)]));
  if (slowlog) for (const system of systems) await ScriptTimes.start(system.info);
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 === 1 ? systems : [...systems].reverse();
    for (const system of order) {
      const redisBefore = await sampleRedis(system.info);
      await accounting.get(system.name)?.begin();
      const sysBefore = sysMillis(system.pids['ca-service']);
      const caPid = system.pids['ca-service'];
      const gcBefore = system.gcDir !== undefined && caPid !== undefined ? sampleGc(system.gcDir, caPid) : undefined;
      const before = sampleCpu(system.pids);
      const started = performance.now();
      const certs = await drive(system, seconds * 1000);
      const cpu = cpuPerOp(before, sampleCpu(system.pids), certs);
      const gc = gcBefore !== undefined && system.gcDir !== undefined && caPid !== undefined ? gcPerThousand(gcBefore, sampleGc(system.gcDir, caPid), certs) : undefined;
      const sys = Math.round(((sysMillis(system.pids['ca-service']) - sysBefore) * 1000) / certs);
      const redisAfter = await sampleRedis(system.info);
      await accounting.get(system.name)?.end(certs);
      if (slowlog) await scriptTimes.get(system.name)?.collect(system.info);
      const totals = redisTotals.get(system.name);
      if (totals !== undefined) {
        // The AOF's growth counts only over slices no rewrite touched (its end shrinks the file).
        if (redisAfter.aofRewrites === redisBefore.aofRewrites && !redisBefore.aofRewriteInProgress && !redisAfter.aofRewriteInProgress) {
          totals.aofBytes += redisAfter.aofBytes - redisBefore.aofBytes;
          totals.aofCerts += certs;
        }
        totals.certs += certs;
        totals.before.push(redisBefore);
        totals.after.push(redisAfter);
      }
      const line = {
        system: system.name,
        round,
        certs,
        throughput: Number(((certs * 1000) / (performance.now() - started)).toFixed(1)),
        cpu_us_per_cert: cpu,
        ca_service_sys_us_per_cert: sys,
        load_avg_1m: Number(loadavg()[0]?.toFixed(2)),
        ...(gc === undefined ? {} : { ca_service_gc: gc }),
      };
      results.get(system.name)?.push({ ...cpu, 'ca-service-sys': sys, throughput: line.throughput, ...prefixed('gc.', gc) });
      console.log(JSON.stringify(line));
    }
  }
  const medians = Object.fromEntries(
    [...results].map(([name, rows]) => [name, Object.fromEntries([...new Set(['ca-service', 'ca-service-sys', 'redis', 'throughput', ...rows.flatMap((r) => Object.keys(r).filter((k) => k.startsWith('gc.')))])].map((k) => {
        const m = median(rows.map((r) => r[k] ?? NaN).filter(Number.isFinite));
        return [k, k.startsWith('gc.') ? Number(m.toFixed(1)) : Math.round(m)];
      }))]),
  );
  const perRound = (key: string): number[] | undefined => {
    const mine = results.get('this');
    const base = results.get('baseline');
    if (mine === undefined || base === undefined) return undefined;
    return mine.map((row, i) => Number(((row[key] ?? NaN) / (base[i]?.[key] ?? NaN)).toFixed(2)));
  };
  for (const [name, totals] of redisTotals) {
    const system = systems.find((s) => s.name === name);
    // Everything the system holds at the end (inventory, retained jobs, events stream): what retention costs shows here.
    const usedMemory = system === undefined ? NaN : Number(/^used_memory:(\d+)/m.exec(await system.info.info('memory'))?.[1] ?? NaN);
    const kept = system === undefined ? NaN : await system.queue.getCompletedCount();
    console.log(JSON.stringify({ system: name, redis_used_memory_mb: Number((usedMemory / 2 ** 20).toFixed(1)), completed_issue_jobs_kept: kept, aof_bytes_per_cert: totals.aofCerts === 0 ? null : Math.round(totals.aofBytes / totals.aofCerts), aof_certs_counted: totals.aofCerts, redis_per_cert: perCert(sumCounters(totals.before), sumCounters(totals.after), totals.certs) }));
    if (slowlog) console.log(JSON.stringify({ system: name, redis_top_level_per_cert: scriptTimes.get(name)?.perCert(totals.certs) }));
    console.log(JSON.stringify({ system: name, redis_accounting: accounting.get(name)?.report() }));
  }
  // Each script's calls and µs per certificate, by name, from the slow log in one more slice per
  // system, after the measured ones: the slow log costs Redis CPU, so its µs are for shares only.
  if (!slowlog) {
    for (const system of systems) {
      const times = new ScriptTimes(bullmqScripts());
      await ScriptTimes.start(system.info);
      const certs = await drive(system, seconds * 1000);
      await times.collect(system.info);
      console.log(JSON.stringify({ system: system.name, redis_top_level_per_cert_slowlog: times.perCert(certs) }));
    }
  }
  console.log(JSON.stringify({ summary: true, rounds, seconds, items, in_flight: inFlight, load_avg_1m: Number(loadavg()[0]?.toFixed(2)), median: medians, ca_service_cpu_vs_baseline_per_round: perRound('ca-service'), redis_cpu_vs_baseline_per_round: perRound('redis') }));
} finally {
  for (const system of systems) {
    await system.events.close().catch(() => undefined);
    await system.queue.close().catch(() => undefined);
    system.disconnect();
    await system.stack.stop();
    rmSync(system.dataDir, { recursive: true, force: true });
    if (system.gcDir !== undefined) removeGcProbeDir(system.gcDir);
  }
}
