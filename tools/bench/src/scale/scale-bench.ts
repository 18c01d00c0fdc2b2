// `npm run bench:scale`: the inventory at mesh scale (issue 15). One private redis-server (loopback,
// random port, AOF with everysec as deployed) is filled to each size of BENCH_SCALE_COUNTS
// (default 10000,100000,1000000) through the inventory's own commit, from records the real issue
// path produced. At each size it prints one JSON line with: Redis memory per certificate, a
// rotation sweep's Redis commands with 1% due, the ca-service's and gateway's start-up to /readyz
// 200, GET /v1/certificates for the first and the last page, and `fsm-certs check`. Then the
// rotation storm (storm.ts; BENCH_SCALE_STORM_LEAVES, default 100000, 0 skips it), then the
// replicas scenario: one ca-service against two on one Redis, 16 clients, and whether any name was
// issued twice (BENCH_SCALE_REPLICAS=0 skips it; BENCH_SCALE_REPLICA_SECONDS, default 15).
// BENCH_BASELINE=<a built checkout> also times that checkout's `fsm-certs check` against the same
// gateway and runs each storm with its system first, for a comparison within one run.
// Reports, never asserts. BENCH_SCALE_CHECK_TIMEOUT_MS bounds `check` (default 120000); data dirs
// are removed.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { systemClock } from '@fsm-certs/core';
import { sweepOnce } from '@fsm-certs/issuance';
import { DEFAULT_PREFIX, Inventory, createRotateQueue, startRedisServer, type CertificateRecord } from '@fsm-certs/queue';
import { newAdminToken, repoRoot } from '@fsm-certs/stack';
import { median } from '../measure.js';
import { postJson } from '../issue/http-post.js';
import { benchRunFrom } from '../issue/targets.js';
import { baselineStartStack } from '../issue/vault.js';
import { startApps, type StartedApps } from './apps.js';
import { benchName, loadInventory } from './loader.js';
import { measureLiveCount } from './live-count.js';
import { measureMovingPass } from './moving-pass.js';
import { countCommands, keyMemory, usedMemory } from './redis-stats.js';
import { runReplicas } from './replicas.js';
import { runStorm } from './storm.js';
import { benchEnvNumber } from '../bench-env.js';

const DUE_EVERY = 100; // 1% due
const TEMPLATES = 32;

function counts(): number[] {
  const raw = process.env['BENCH_SCALE_COUNTS'] ?? '10000,100000,1000000';
  if (raw.trim() === '') return [];
  const values = raw.split(',').map((v) => Number(v.trim()));
  if (values.some((v) => !Number.isInteger(v) || v < DUE_EVERY)) throw new Error(`BENCH_SCALE_COUNTS must list integers >= ${DUE_EVERY}; got ${raw}`);
  return [...values].sort((a, b) => a - b);
}

function print(line: Record<string, unknown>): void {
  console.log(JSON.stringify({ ...line, load_avg_1m: Number(loadavg()[0]?.toFixed(2)) }));
}

async function timeGet(url: string, token: string, runs = 5): Promise<{ ms: number; items: number }> {
  const times: number[] = [];
  let items = 0;
  for (let i = 0; i < runs; i += 1) {
    const started = performance.now();
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    const body = (await res.json()) as { items?: unknown[] };
    if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}`);
    times.push(performance.now() - started);
    items = body.items?.length ?? 0;
  }
  return { ms: Number(median(times).toFixed(1)), items };
}

/** A built checkout to compare with in the same run (`fsm-certs check`, the storm); unset: none. */
function baselineCheckout(): string | undefined {
  const dir = process.env['BENCH_BASELINE'];
  return dir === undefined || dir.trim() === '' ? undefined : path.resolve(dir);
}

/**
 * `fsm-certs check` (of `checkout`, default this one) against the gateway: wall time and exit code,
 * bounded. The command runs from its bundle (apps/cli/dist), which `npm run bench:scale` rebuilds
 * first: a bundle left from an earlier `npm ci` would time that version's check instead.
 */
function timeCheck(apps: StartedApps, timeoutMs: number, checkout = repoRoot()): Promise<{ ms: number; exit: number | null; timedOut: boolean }> {
  const started = performance.now();
  const child = spawn(process.execPath, [path.join(checkout, 'apps/cli/bin/fsm-certs.js'), 'check'], {
    env: { ...process.env, FSM_CERTS_SERVER: apps.gatewayUrl, FSM_CERTS_TOKEN: apps.adminToken },
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ ms: Math.round(performance.now() - started), exit: code, timedOut });
    });
  });
}

/** A few real certificates through the gateway, read back as the inventory holds them. */
async function templates(apps: StartedApps, inventory: Inventory): Promise<CertificateRecord[]> {
  for (let i = 0; i < TEMPLATES; i += 1) {
    const res = await postJson(`${apps.gatewayUrl}/v1/certificates`, { commonName: `template-${i}.bench.cluster.local`, keyAlgorithm: 'ecdsa-p256', validity: '24h' }, {
      authorization: `Bearer ${apps.adminToken}`,
    });
    if (res.status !== 201) throw new Error(`issuing a template certificate: the gateway answered ${res.status}`);
  }
  const page = await inventory.list({ limit: TEMPLATES });
  return page.items.map(({ previousSerialNumber: _none, ...record }) => record);
}

async function replicas(): Promise<void> {
  if (process.env['BENCH_SCALE_REPLICAS'] === '0') return;
  const seconds = benchEnvNumber('BENCH_SCALE_REPLICA_SECONDS', 15);
  const runs = [];
  for (const caServices of [1, 2]) {
    const run = await runReplicas(caServices, { clients: 16, seconds, warmupSeconds: 5 });
    print({ scenario: `replicas-${caServices}-ca-service`, ...run });
    runs.push(run);
  }
  const [one, two] = runs;
  if (one !== undefined && two !== undefined) {
    print({
      scenario: 'replicas-summary',
      ratio_two_vs_one: Number((two.throughput / Math.max(1, one.throughput)).toFixed(2)),
      issued_twice: one.reissuedNames + two.reissuedNames + one.duplicateIssuedEvents + two.duplicateIssuedEvents,
    });
  }
}

/** The storm: 100k live leaves re-issued while 16 clients keep asking for new certificates. */
const STORM_LEAVES = 100_000;

/**
 * BENCH_SCALE_STORM_LEAVES (the mass renewal, default 100000) or BENCH_SCALE_ACTIVATION_STORM_LEAVES
 * (a root activation, default 0): one size or a comma-separated list; 0 or empty skips it.
 */
function stormSizes(variable = 'BENCH_SCALE_STORM_LEAVES', fallback = String(STORM_LEAVES)): number[] {
  const raw = process.env[variable] ?? fallback;
  const sizes = raw.split(',').map((v) => v.trim()).filter((v) => v !== '').map(Number);
  if (sizes.some((v) => !Number.isInteger(v) || v < 0)) throw new Error(`${variable} must list whole numbers; got ${raw}`);
  return sizes.filter((v) => v > 0);
}

async function storm(): Promise<void> {
  const baseline = baselineCheckout();
  for (const leaves of stormSizes()) {
    // The baseline first, then this checkout, size by size: the pair shares the machine's load.
    if (baseline !== undefined) await stormOnce(leaves, 'rotation-storm-baseline', 'renewal', await baselineStartStack(baseline));
    await stormOnce(leaves, 'rotation-storm', 'renewal');
  }
  for (const leaves of stormSizes('BENCH_SCALE_ACTIVATION_STORM_LEAVES', '0')) {
    if (baseline !== undefined) await stormOnce(leaves, 'activation-storm-baseline', 'activation', await baselineStartStack(baseline));
    await stormOnce(leaves, 'activation-storm', 'activation');
  }
}

async function stormOnce(leaves: number, scenario: string, kind: 'renewal' | 'activation', start?: Parameters<typeof runStorm>[0]['start']): Promise<void> {
  const result = await runStorm({
    leaves,
    seconds: benchEnvNumber('BENCH_SCALE_STORM_SECONDS', 10),
    windowSeconds: benchEnvNumber('BENCH_SCALE_STORM_WINDOW_S', 300),
    clients: 16,
    kind,
    ...(start === undefined ? {} : { start }),
  });
  const p99 = (r: typeof result.baseline): number => Number(r.p99Ms.toFixed(1));
  print({
    scenario,
    leaves: result.leaves,
    p99_ms_without_storm: p99(result.baseline),
    p99_ms_during_storm: p99(result.during),
    p99_ratio: Number((result.during.p99Ms / Math.max(0.1, result.baseline.p99Ms)).toFixed(2)),
    throughput_without_storm: Math.round(result.baseline.throughput),
    throughput_during_storm: Math.round(result.during.throughput),
    errors_during_storm: result.during.errors,
    storm_seconds: result.stormSeconds ?? null,
    window_seconds: result.windowSeconds,
    finished_within_window: result.stormSeconds !== undefined,
    renewals_left: result.rotatedLeft,
    renewals_finished: result.finished,
    moved_during_load: result.movedDuringLoad,
  });
}

async function main(): Promise<void> {
  await inventoryAtScale();
  await storm();
  await replicas();
}

async function inventoryAtScale(): Promise<void> {
  const sizes = counts();
  if (sizes.length === 0) return;
  const checkTimeoutMs = benchEnvNumber('BENCH_SCALE_CHECK_TIMEOUT_MS', 120_000);
  const runFrom = benchRunFrom();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bench-scale-'));
  mkdirSync(path.join(dataDir, 'redis-data'));
  const redisServer = await startRedisServer({ dir: path.join(dataDir, 'redis-data') });
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
  // e.g. BENCH_SCALE_REDIS_CONFIG='hash-max-listpack-value 4096': to weigh a server setting.
  const config = (process.env['BENCH_SCALE_REDIS_CONFIG'] ?? '').trim();
  if (config !== '') {
    const [name, ...value] = config.split(/\s+/);
    if (name !== undefined) await redis.config('SET', name, value.join(' '));
  }
  const adminToken = newAdminToken();
  const prefix = DEFAULT_PREFIX;
  const inventory = new Inventory(redis, { prefix });
  const rotateQueue = createRotateQueue(redis, prefix);
  const logger = pino({ level: 'silent' });
  const results: Array<Record<string, unknown>> = [];
  try {
    const first = await startApps({ redisUrl: redisServer.url, dataDir, adminToken, runFrom });
    const records = await templates(first, inventory).finally(() => first.stop());
    print({ scenario: 'scale-empty', ca_service_ready_ms: Math.round(first.caServiceReadyMs), gateway_ready_ms: Math.round(first.gatewayReadyMs), templates: records.length });
    const baseMemory = await usedMemory(redis);
    const nowMs = Date.now();
    let loaded = 0;
    for (const size of sizes) {
      const loadStarted = performance.now();
      await loadInventory({ redis, prefix, templates: records, from: loaded, to: size, nowMs, dueEvery: DUE_EVERY });
      const loadSeconds = (performance.now() - loadStarted) / 1000;
      const loadedNow = size - loaded;
      loaded = size;
      const memory = await usedMemory(redis);
      // The announcement stream is capped (~10,000 entries) whatever the inventory's size: at 10k
      // it is a third of the figure, at 1M a rounding error. Reported apart so the per-certificate
      // figure without it is the inventory's own cost at every size.
      const streamBytes = await keyMemory(redis, inventory.keys.events);
      const sampleHash = await redis.memory('USAGE', inventory.keys.cert(benchName(1)));
      const dueCount = Math.ceil(size / DUE_EVERY);
      let sweep = { due: 0, enqueued: 0, retried: 0 };
      const commands = await countCommands(redis, async () => {
        sweep = await sweepOnce({ inventory, rotateQueue, clock: systemClock, logger, limit: dueCount });
      });
      await rotateQueue.obliterate({ force: true });
      const liveCount = await measureLiveCount(redis, inventory, size);
      const movingPass = await measureMovingPass(redis, inventory);
      const apps = await startApps({ redisUrl: redisServer.url, dataDir, adminToken, runFrom });
      try {
        const base = `${apps.gatewayUrl}/v1/certificates?limit=100`;
        const firstPage = await timeGet(base, adminToken);
        const lastPage = await timeGet(`${base}&cursor=${encodeURIComponent(benchName(size - 101))}`, adminToken);
        // The first check decodes every record once (none was ever checked); later ones only what changed.
        const firstCheck = await timeCheck(apps, checkTimeoutMs);
        const check = await timeCheck(apps, checkTimeoutMs);
        const baseline = baselineCheckout();
        const baselineCheck = baseline === undefined ? undefined : await timeCheck(apps, checkTimeoutMs, baseline);
        // A check leaves its `verified` digest in every record it decoded: memory as it stands after one.
        const memoryAfterCheck = await usedMemory(redis);
        const sampleHashAfterCheck = await redis.memory('USAGE', inventory.keys.cert(benchName(1)));
        const line = {
          scenario: `scale-${size}`,
          certificates: size,
          redis_config: config === '' ? undefined : config,
          load_per_sec: Math.round(loadedNow / loadSeconds),
          redis_bytes_per_cert: Math.round((memory - baseMemory) / size),
          redis_bytes_per_cert_after_check: Math.round((memoryAfterCheck - baseMemory) / size),
          event_stream_bytes: streamBytes,
          redis_bytes_per_cert_without_stream: Math.round((memory - baseMemory - streamBytes) / size),
          redis_bytes_per_cert_after_check_without_stream: Math.round((memoryAfterCheck - baseMemory - streamBytes) / size),
          cert_hash_bytes: sampleHash,
          cert_hash_bytes_after_check: sampleHashAfterCheck,
          sweep_due: sweep.due,
          sweep_enqueued: sweep.enqueued,
          sweep_redis_commands: commands.total,
          sweep_commands_per_due: Number((commands.total / Math.max(1, sweep.due)).toFixed(2)),
          sweep_commands: commands.byCommand,
          ...liveCount,
          ...movingPass,
          ca_service_ready_ms: Math.round(apps.caServiceReadyMs),
          gateway_ready_ms: Math.round(apps.gatewayReadyMs),
          list_first_page_ms: firstPage.ms,
          list_last_page_ms: lastPage.ms,
          list_last_page_items: lastPage.items,
          first_check_ms: firstCheck.timedOut ? null : firstCheck.ms,
          check_ms: check.timedOut ? null : check.ms,
          check_exit: check.exit,
          check_timed_out_after_ms: check.timedOut ? checkTimeoutMs : undefined,
          baseline_check_ms: baselineCheck === undefined || baselineCheck.timedOut ? undefined : baselineCheck.ms,
          baseline_check_exit: baselineCheck?.exit,
          baseline_check_timed_out_after_ms: baselineCheck?.timedOut === true ? checkTimeoutMs : undefined,
        };
        print(line);
        results.push(line);
      } finally {
        await apps.stop();
      }
    }
    print({
      scenario: 'scale-summary',
      bytes_per_cert_goal: 2048,
      bytes_per_cert: Object.fromEntries(results.map((r) => [String(r['certificates']), r['redis_bytes_per_cert']])),
      bytes_per_cert_after_check: Object.fromEntries(results.map((r) => [String(r['certificates']), r['redis_bytes_per_cert_after_check']])),
      bytes_per_cert_without_stream: Object.fromEntries(results.map((r) => [String(r['certificates']), r['redis_bytes_per_cert_without_stream']])),
      bytes_per_cert_after_check_without_stream: Object.fromEntries(results.map((r) => [String(r['certificates']), r['redis_bytes_per_cert_after_check_without_stream']])),
      event_stream_bytes: Object.fromEntries(results.map((r) => [String(r['certificates']), r['event_stream_bytes']])),
      sweep_commands_per_due: Object.fromEntries(results.map((r) => [String(r['certificates']), r['sweep_commands_per_due']])),
      live_count_index_ms: Object.fromEntries(results.map((r) => [String(r['certificates']), r['live_count_index_ms']])),
      live_count_scan_ms: Object.fromEntries(results.map((r) => [String(r['certificates']), r['live_count_scan_ms']])),
      moving_pass_index_ms: Object.fromEntries(results.map((r) => [String(r['certificates']), r['moving_pass_index_ms']])),
      moving_pass_index_commands: Object.fromEntries(results.map((r) => [String(r['certificates']), r['moving_pass_index_commands']])),
      moving_pass_scan_ms: Object.fromEntries(results.map((r) => [String(r['certificates']), r['moving_pass_scan_ms']])),
      moving_pass_scan_commands: Object.fromEntries(results.map((r) => [String(r['certificates']), r['moving_pass_scan_commands']])),
      first_check_ms: Object.fromEntries(results.map((r) => [String(r['certificates']), r['first_check_ms']])),
      check_ms: Object.fromEntries(results.map((r) => [String(r['certificates']), r['check_ms']])),
      baseline_check_ms: baselineCheckout() === undefined ? undefined : Object.fromEntries(results.map((r) => [String(r['certificates']), r['baseline_check_ms'] ?? null])),
    });
  } finally {
    await rotateQueue.close();
    redis.disconnect();
    await redisServer.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 0; // benchmarks report, they do not gate
});
