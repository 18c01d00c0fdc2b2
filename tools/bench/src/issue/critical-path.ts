// The critical path of one request at one client (issue 15, "low load is not taxed"): starts the
// system as bench:issue does, sends BENCH_REQUESTS (default 100) requests one after the other
// while Redis' MONITOR records every top-level command with its server timestamp and the process
// that sent it, and prints, per step of a request, the median time since the request left the
// client. Commands inside Lua scripts are not round trips and are not shown; scripts are named
// by the first key they touch. BENCH_BASELINE=<checkout, built> traces that checkout too.
// BENCH_TIMELINE=1 traces without MONITOR instead: timeline-probe.ts inside every app records its
// socket writes and reads and BullMQ's steps, so the gaps inside each process show, unslowed.
// With BENCH_CLIENTS above 1 as well, the timeline is of a closed-loop load of that many clients
// (BENCH_WARMUP_SECONDS, default 10, then BENCH_SECONDS, default 6, measured) and pipeline.ts
// follows every job through it; BENCH_VARIANTS (as bench:issue's) runs one such timeline per entry.
// BENCH_ARRIVALS=open makes that load random (Poisson) arrivals at BENCH_RATES (one rate: per
// second, or `50%` of what the closed loop of BENCH_CLIENTS reached in the warm-up's last 3 s),
// and every request is followed through its job: the slowest 2% step by step, with what else
// happened in their window (collections, each process's run-queue wait, an AOF rewrite).
//
//   npm run bench:critical-path
//   BENCH_TIMELINE=1 npm run bench:critical-path
//   BENCH_TIMELINE=1 BENCH_CLIENTS=16 npm run bench:critical-path
//   BENCH_TIMELINE=1 BENCH_CLIENTS=16 BENCH_ARRIVALS=open BENCH_RATES=50% npm run bench:critical-path
import { loadavg, tmpdir } from 'node:os';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { Redis } from 'ioredis';
import { startStack, type Stack } from '@fsm-certs/stack';
import { gatewayRequest, withWarmStack } from './targets.js';
import { baselineStartStack } from './vault.js';
import { ownerOfSource } from './monitor-owner.js';
import { stepName } from './command-names.js';
import { timelineSteps } from './timeline.js';
import { pipelineReport, type Pause, type RunContext } from './pipeline.js';
import { runClosedLoop, type LoadResult } from './load.js';
import { offeredPerSecond, offeredRateSchema, runOpenLoop, type OpenLoopResult } from './open-loop.js';
import { childrenCpuMillis, cpuPerOp, sampleCpu } from './cpu.js';
import { benchEnvNumber } from '../bench-env.js';
import { median } from '../measure.js';

const requests = benchEnvNumber('BENCH_REQUESTS', 100);
const baseline = process.env['BENCH_BASELINE'];
const timeline = process.env['BENCH_TIMELINE'] === '1';
const clients = benchEnvNumber('BENCH_CLIENTS', 1);
const seconds = benchEnvNumber('BENCH_SECONDS', 6);
const warmupSeconds = benchEnvNumber('BENCH_WARMUP_SECONDS', 10);
const openArrivals = process.env['BENCH_ARRIVALS'] === 'open';
const rateSetting = process.env['BENCH_RATES'] ?? '50%';
const seed = benchEnvNumber('BENCH_SEED', 1);
// With open arrivals: start an AOF rewrite (BGREWRITEAOF) this many seconds into the measured
// run and every twice as many after it, and report windows of that length, so windows with a
// rewrite and without one are compared under the same load in the same run (0: none).
const rewriteEverySeconds = benchEnvNumber('BENCH_AOF_REWRITE_EVERY', 0);
const variants = JSON.parse(process.env['BENCH_VARIANTS'] ?? '{}') as Record<string, Record<string, string>>;

interface Seen {
  readonly atUs: number;
  readonly step: string;
}

async function trace(stack: Stack, label: string): Promise<void> {
  const pids: Record<string, number | undefined> = {};
  for (const app of stack.apps) pids[app.label] = app.pid;
  const owners = new Map<string, string>();
  const watcher = new Redis(stack.redisUrl);
  const monitor = await watcher.monitor();
  let current: Seen[] | undefined;
  monitor.on('monitor', (time: string, args: string[], source: string) => {
    if (source === 'lua' || current === undefined) return;
    const owner = ownerOfSource(source, pids, owners);
    if (owner === 'other') return;
    current.push({ atUs: Number(time) * 1e6, step: stepName(owner, args) });
  });
  const request = gatewayRequest(stack, `${label}-path`);
  const perStep = new Map<string, number[]>();
  const sequences = new Map<string, number>();
  const totals: number[] = [];
  for (let seq = 0; seq < requests; seq++) {
    const seen: Seen[] = [];
    current = seen;
    const startUs = (performance.timeOrigin + performance.now()) * 1000;
    await request(seq);
    const endUs = (performance.timeOrigin + performance.now()) * 1000;
    // MONITOR lines of this request's last commands may still be on their way.
    await watcher.ping().catch(() => undefined);
    current = undefined;
    totals.push(endUs - startUs);
    const steps: string[] = [];
    const count = new Map<string, number>();
    for (const s of seen) {
      if (s.atUs > endUs) continue;
      const n = (count.get(s.step) ?? 0) + 1;
      count.set(s.step, n);
      const step = n === 1 ? s.step : `${s.step} #${n}`;
      steps.push(step);
      const list = perStep.get(step) ?? [];
      list.push((s.atUs - startUs) / 1000);
      perStep.set(step, list);
    }
    const key = steps.join(' > ');
    sequences.set(key, (sequences.get(key) ?? 0) + 1);
  }
  monitor.disconnect();
  watcher.disconnect();
  // Steps of most requests; the rest (the rotation controller's ticks, heartbeats) is not the path.
  const steps = [...perStep]
    .filter(([, at]) => at.length >= requests / 2)
    .map(([step, at]) => ({ step, seen_in: at.length, median_ms: Number(median(at).toFixed(3)) }))
    .sort((a, b) => a.median_ms - b.median_ms);
  const common = [...sequences].sort((a, b) => b[1] - a[1])[0];
  process.stdout.write(
    `${JSON.stringify({
      scenario: `critical-path-${label}`,
      requests,
      median_request_ms: Number((median(totals) / 1000).toFixed(3)),
      load_avg_1m: Number(loadavg()[0]?.toFixed(2)),
      redis_commands_per_request: Number(([...perStep.values()].reduce((sum, at) => sum + at.length, 0) / requests).toFixed(2)),
      steps,
      most_common_sequence: common === undefined ? null : { seen_in: common[1], steps: common[0].split(' > ') },
    })}\n`,
  );
}

const nowUs = (): number => (performance.timeOrigin + performance.now()) * 1000;

/**
 * Runs `body` on a warm stack whose apps carry the timeline probe (and `env`), then hands the
 * directory the probes wrote on exit to `read`.
 */
async function withProbedStack(label: string, start: typeof startStack, env: Readonly<Record<string, string>>, body: (stack: Stack) => Promise<void>, read: (dir: string) => void): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), `timeline-${label}-`));
  const probe = fileURLToPath(new URL('../../dist/issue/timeline-probe.js', import.meta.url));
  const saved: Record<string, string | undefined> = { NODE_OPTIONS: process.env['NODE_OPTIONS'], FSM_TIMELINE_DIR: process.env['FSM_TIMELINE_DIR'] };
  for (const name of Object.keys(env)) saved[name] = process.env[name];
  // The stack hands its apps this process's environment.
  Object.assign(process.env, env);
  process.env['NODE_OPTIONS'] = `${saved['NODE_OPTIONS'] ?? ''} --import=${probe}`.trim();
  process.env['FSM_TIMELINE_DIR'] = dir;
  try {
    await withWarmStack(label, start, 200, body);
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
  read(dir);
  // BENCH_TIMELINE_KEEP=1 leaves the probes' files for reading by hand.
  if (process.env['BENCH_TIMELINE_KEEP'] === '1') process.stderr.write(`timeline files kept in ${dir}\n`);
  else rmSync(dir, { recursive: true, force: true });
}

/** Requests one at a time, each's [start, end] in µs since the epoch; the probe in every app records the rest. */
async function timelineRun(label: string, start: typeof startStack): Promise<void> {
  const windows: Array<readonly [number, number]> = [];
  await withProbedStack(
    label,
    start,
    {},
    async (stack) => {
      const request = gatewayRequest(stack, `${label}-path`);
      for (let seq = 0; seq < requests; seq++) {
        const startUs = nowUs();
        await request(seq);
        windows.push([startUs, nowUs()]);
      }
    },
    (dir) => {
      const result = timelineSteps(dir, windows);
      process.stdout.write(`${JSON.stringify({ scenario: `timeline-${label}`, requests, load_avg_1m: Number(loadavg()[0]?.toFixed(2)), ...result })}\n`);
    },
  );
}

/** The numeric fields of INFO persistence and stats that say what the AOF cost (rewrites, forks, late fsyncs). */
async function persistence(redis: Redis): Promise<Record<string, number>> {
  const text = await redis.info('all');
  const out: Record<string, number> = {};
  for (const name of ['aof_rewrites', 'aof_delayed_fsync', 'latest_fork_usec']) {
    const value = new RegExp(`^${name}:(\\d+)`, 'm').exec(text)?.[1];
    if (value !== undefined) out[name] = Number(value);
  }
  return out;
}

/** Each process's cumulative run-queue wait in µs (/proc/<pid>/schedstat's second field, ns): time ready to run with no core free. */
function runQueueWaitUs(pid: number): number | undefined {
  try {
    const waitedNs = readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1];
    return waitedNs === undefined ? undefined : Number(waitedNs) / 1000;
  } catch {
    return undefined;
  }
}

/**
 * Samples, while a run lasts, what the apps cannot report themselves: each process's run-queue
 * wait every 5 ms, whether Redis is rewriting its AOF every 20 ms, and this process's (the load
 * client's) collections.
 */
function watchRun(pids: Readonly<Record<string, number | undefined>>, redisUrl: string): { stop(): RunContext } {
  const redis = new Redis(redisUrl);
  const runQueue: Record<string, Array<readonly [number, number]>> = {};
  const sample = (): void => {
    const at = nowUs();
    for (const [app, pid] of Object.entries(pids)) {
      const waited = pid === undefined ? undefined : runQueueWaitUs(pid);
      if (waited !== undefined) (runQueue[app] ??= []).push([at, waited]);
    }
  };
  sample();
  const sampler = setInterval(sample, 5);
  const aofRewrites: Array<readonly [number, number]> = [];
  let rewriteFrom: number | undefined;
  const poller = setInterval(() => {
    const at = nowUs();
    void redis.info('persistence').then((text) => {
      const rewriting = /^aof_rewrite_in_progress:1/m.test(text);
      if (rewriting) rewriteFrom ??= at;
      else if (rewriteFrom !== undefined) {
        aofRewrites.push([rewriteFrom, at]);
        rewriteFrom = undefined;
      }
    }, () => undefined);
  }, 20);
  const clientPauses: Pause[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const startUs = (performance.timeOrigin + entry.startTime) * 1000;
      const kind: unknown = Reflect.get(Reflect.get(entry, 'detail') ?? {}, 'kind');
      clientPauses.push({ app: 'load-client', startUs, endUs: startUs + entry.duration * 1000, major: kind === constants.NODE_PERFORMANCE_GC_MAJOR });
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    stop: () => {
      clearInterval(sampler);
      clearInterval(poller);
      redis.disconnect();
      observer.disconnect();
      sample();
      if (rewriteFrom !== undefined) aofRewrites.push([rewriteFrom, nowUs()]);
      return { runQueue, aofRewrites, clientPauses };
    },
  };
}

/**
 * `clients` closed-loop clients, or with BENCH_ARRIVALS=open a Poisson stream after a closed-loop
 * warm-up; every job (and request) of the measured seconds followed through the pipeline.
 */
async function pipelineRun(label: string, start: typeof startStack, env: Readonly<Record<string, string>>): Promise<void> {
  let fromUs = 0;
  let toUs = 0;
  let measured: Record<string, unknown> = {};
  let context: RunContext = {};
  await withProbedStack(
    label,
    start,
    env,
    async (stack) => {
      const pids: Record<string, number | undefined> = { redis: stack.redis?.pid, client: process.pid };
      for (const app of stack.apps) pids[app.label] = app.pid;
      let before = sampleCpu(pids);
      let rewriteCpuBefore = childrenCpuMillis(stack.redis?.pid);
      const redis = new Redis(stack.redisUrl);
      let persistenceBefore: Record<string, number> = {};
      const request = gatewayRequest(stack, `${label}-load`);
      let watch: { stop(): RunContext } | undefined;
      const onMeasureStart = (): void => {
        before = sampleCpu(pids);
        rewriteCpuBefore = childrenCpuMillis(stack.redis?.pid);
        fromUs = nowUs();
        void persistence(redis).then((p) => (persistenceBefore = p));
        // Redis's own record of what took it over 1 ms (commands, fsyncs, forks), from here on.
        void redis.call('LATENCY', 'RESET').then(() => redis.config('SET', 'latency-monitor-threshold', '1'), () => undefined);
        if (openArrivals) watch = watchRun(pids, stack.redisUrl);
        if (openArrivals && rewriteEverySeconds > 0) {
          // Rewrites in windows 1, 3, 5, ...; windows 0, 2, 4, ... run without one.
          const rewrite = (): void => void redis.bgrewriteaof().catch(() => undefined);
          const first = setTimeout(() => {
            rewrite();
            rewriter = setInterval(rewrite, 2 * rewriteEverySeconds * 1000);
          }, rewriteEverySeconds * 1000 + 100);
          stopRewrites = () => {
            clearTimeout(first);
            if (rewriter !== undefined) clearInterval(rewriter);
          };
        }
      };
      let rewriter: NodeJS.Timeout | undefined;
      let stopRewrites = (): void => undefined;
      let load: LoadResult | OpenLoopResult;
      let open: Record<string, unknown> = {};
      if (openArrivals) {
        // The warm-up is a closed loop; its last 3 s say what the stack does right now.
        const warm = await runClosedLoop({ clients, durationMs: 3000, warmupMs: Math.max(0, warmupSeconds - 3) * 1000, request });
        const rate = offeredPerSecond(offeredRateSchema.parse(rateSetting.trim()), warm.throughput);
        const result = await runOpenLoop({ ratePerSecond: rate, durationMs: seconds * 1000, warmupMs: 1000, seed, maxOutstanding: 256, onMeasureStart, request: (seq) => request(1_000_000 + seq) });
        load = result;
        open = {
          arrivals: 'open',
          closed_loop_throughput: Number(warm.throughput.toFixed(1)),
          offered_per_s: Number(rate.toFixed(1)),
          arrived: result.arrivals,
          dropped: result.dropped,
          unfinished: result.unfinished,
          peak_outstanding: result.peakOutstanding,
          start_lag_p99_ms: Number(result.startLagP99Ms.toFixed(2)),
        };
      } else {
        load = await runClosedLoop({ clients, durationMs: seconds * 1000, warmupMs: warmupSeconds * 1000, onMeasureStart, request });
      }
      toUs = nowUs();
      stopRewrites();
      context = { ...(watch?.stop() ?? {}), ...(rewriteEverySeconds > 0 ? { windowUs: rewriteEverySeconds * 1e6 } : {}) };
      const persistenceAfter = await persistence(redis);
      const latency = (await redis.call('LATENCY', 'LATEST').catch(() => [])) as unknown[];
      redis.disconnect();
      measured = {
        ...open,
        throughput: Number(load.throughput.toFixed(1)),
        p50_ms: Number(load.p50Ms.toFixed(2)),
        p99_ms: Number(load.p99Ms.toFixed(2)),
        ...(load.p999Ms === undefined ? {} : { p999_ms: Number(load.p999Ms.toFixed(2)) }),
        errors: load.errors,
        cpu_us_per_cert: cpuPerOp(before, sampleCpu(pids), load.requests),
        load_avg_1m: Number(loadavg()[0]?.toFixed(2)),
        // Redis's persistence during the measured seconds: AOF rewrites (a fork, then a child
        // competing for the cores), the last fork's pause, and writes that waited for an fsync.
        redis_aof_rewrites: (persistenceAfter['aof_rewrites'] ?? 0) - (persistenceBefore['aof_rewrites'] ?? 0),
        redis_aof_delayed_fsync: (persistenceAfter['aof_delayed_fsync'] ?? 0) - (persistenceBefore['aof_delayed_fsync'] ?? 0),
        redis_latest_fork_ms: Number(((persistenceAfter['latest_fork_usec'] ?? 0) / 1000).toFixed(2)),
        // The rewrites' children's CPU (not in Redis's own).
        redis_aof_rewrite_cpu_ms: (childrenCpuMillis(stack.redis?.pid) ?? 0) - (rewriteCpuBefore ?? 0),
        aof_rewrite_spans_ms: (context.aofRewrites ?? []).map(([s, e]) => [Number(((s - fromUs) / 1000).toFixed(0)), Number(((e - s) / 1000).toFixed(0))]),
        // [event, last at (s), latest ms, max ms] of each kind Redis measured over 1 ms.
        redis_latency_events: latency,
        run_queue_ms: Object.fromEntries(
          Object.entries(context.runQueue ?? {}).map(([app, samples]) => [app, Number((((samples.at(-1)?.[1] ?? 0) - (samples[0]?.[1] ?? 0)) / 1000).toFixed(1))]),
        ),
      };
    },
    (dir) => {
      process.stdout.write(`${JSON.stringify({ scenario: `pipeline-${label}`, clients, seconds, ...measured, ...pipelineReport(dir, fromUs, toUs, context) })}\n`);
    },
  );
}

async function run(label: string, start: typeof startStack, env: Readonly<Record<string, string>> = {}): Promise<void> {
  if (timeline && clients > 1) await pipelineRun(label, start, env);
  else if (timeline) await timelineRun(label, start);
  else await withWarmStack(label, start, 200, (stack) => trace(stack, label));
}

await run('fsm-certs', startStack);
if (baseline !== undefined && baseline !== '') await run('baseline', await baselineStartStack(baseline));
for (const [name, env] of Object.entries(variants)) await run(name, startStack, env);
