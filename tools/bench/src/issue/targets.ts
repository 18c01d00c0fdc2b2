// What bench:issue drives: cfssl's `serve` (the baseline), the whole fsm-certs system, and the
// `queue-hop` ceiling (the real issuer-gateway and BullMQ with a stand-in CA that signs nothing).
// Each target is started once and then measured in several interleaved rounds.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRedisConnection, freePort, generateKek } from '@fsm-certs/queue';
import { startStack, type RunFrom, type Stack } from '@fsm-certs/stack';
import { cfsslNewcert, startCfssl } from './cfssl.js';
import { postJson } from './http-post.js';
import { RedisAccounting } from '../redis-accounting.js';
import { gcStatsEnabled, removeGcProbeDir, withGcProbe } from '../gc-stats.js';

/** The scenario names bench:issue prints; variants are `fsm-certs-<name>`. */
export const SCENARIOS = {
  cfssl: 'cfssl-serve-p256-server-key',
  cfsslCertDb: 'cfssl-serve-certdb-p256-server-key',
  fsm: 'fsm-certs-gateway-p256-server-key',
  baseline: 'fsm-certs-baseline-p256-server-key',
  queueHop: 'queue-hop-ceiling-stand-in-ca',
} as const;

export interface Target {
  readonly scenario: string;
  /** Processes whose CPU time is reported per certificate. */
  readonly pids: Readonly<Record<string, number | undefined>>;
  /** One issuance; `seq` is unique across the run so names never repeat. */
  request(seq: number): Promise<void>;
  /** Average items per BullMQ job since the last call (fsm targets only). */
  batchSince?(): Promise<number | undefined>;
  /** BENCH_GC=1: where the apps' gc-probe.ts writes its totals (fsm targets). */
  readonly gcDir?: string;
  /** Redis's commands and AOF bytes over the measured slices (targets with a Redis of ours). */
  readonly redis?: RedisAccounting;
  /** AOF rewrites Redis has completed since it started (targets with a Redis of ours). */
  aofRewrites?(): Promise<number>;
  stop(): Promise<void>;
}

/** Redis accounting on a connection of its own, closed before the stack stops its Redis. */
function accountingFor(stack: Stack): { readonly redis: RedisAccounting; aofRewrites(): Promise<number>; close(): void } {
  const connection = createRedisConnection(stack.redisUrl, { role: 'client' });
  connection.on('error', () => undefined);
  return {
    redis: new RedisAccounting(connection),
    aofRewrites: async () => Number(/^aof_rewrites:(\d+)/m.exec(await connection.info('persistence'))?.[1] ?? 0),
    close: () => connection.disconnect(),
  };
}

/** cfssl serve; with certDb it also records every certificate in its sqlite certificate database. */
export async function cfsslTarget(options: { readonly certDb?: boolean } = {}): Promise<Target> {
  const server = await startCfssl(await freePort(), options);
  return {
    scenario: options.certDb === true ? SCENARIOS.cfsslCertDb : SCENARIOS.cfssl,
    pids: { cfssl: server.pid, client: process.pid },
    request: (seq) => cfsslNewcert(server.url, `cfssl-${seq}.bench.cluster.local`),
    stop: () => server.stop(),
  };
}

/** Items per job from the gateway's batch-size histogram, between two readings. */
export function batchMeter(stack: Stack): () => Promise<number | undefined> {
  let last = { sum: 0, count: 0 };
  const read = async (): Promise<{ sum: number; count: number }> => {
    const text = await (await fetch(`${stack.gatewayUrl}/metrics`, { headers: { authorization: `Bearer ${stack.adminToken}` } })).text();
    const value = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    return { sum: value('fsm_certs_gateway_issue_batch_size_sum'), count: value('fsm_certs_gateway_issue_batch_size_count') };
  };
  return async () => {
    try {
      const now = await read();
      const jobs = now.count - last.count;
      const average = jobs > 0 ? (now.sum - last.sum) / jobs : undefined;
      last = now;
      return average === undefined ? undefined : Number(average.toFixed(2));
    } catch {
      return undefined;
    }
  };
}

export function gatewayRequest(stack: Stack, namePrefix: string): (seq: number) => Promise<void> {
  const url = `${stack.gatewayUrl}/v1/certificates`;
  const headers = { authorization: `Bearer ${stack.adminToken}` };
  return async (seq) => {
    const res = await postJson(url, { commonName: `${namePrefix}-${seq}.bench.cluster.local`, keyAlgorithm: 'ecdsa-p256', validity: '24h' }, headers);
    const body = res.body as { privateKey?: unknown };
    if (res.status !== 201 || typeof body.privateKey !== 'string') throw new Error(`gateway answered ${res.status}`);
  };
}

export const BENCH_ENV = { LOG_LEVEL: 'warn', GATEWAY_RATE_LIMIT_PER_SEC: '1000000' };

/**
 * The apps run as deployed (the build output, as in the Docker images) unless
 * BENCH_RUN_FROM=source: through tsx they cost ~10% more CPU per request.
 */
export function benchRunFrom(): RunFrom {
  return process.env['BENCH_RUN_FROM'] === 'source' ? 'source' : 'dist';
}

/**
 * Runs `body` against a whole system started with `start` (this checkout's or another's), after
 * `warmRequests` requests one at a time (connections made, scripts loaded, the gateway's events reader reading);
 * the system and its data directory are gone afterwards.
 */
export async function withWarmStack(label: string, start: typeof startStack, warmRequests: number, body: (stack: Stack) => Promise<void>): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), `bench-${label}-`));
  const stack = await start({ dataDir, env: { ...BENCH_ENV }, runFrom: benchRunFrom() });
  try {
    await stack.waitReady(90_000);
    const warm = gatewayRequest(stack, `${label}-warm`);
    for (let i = 0; i < warmRequests; i++) await warm(i);
    await body(stack);
  } finally {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The whole system: issuer-gateway -> BullMQ -> ca-service (Tresor) -> Redis; another checkout's with `start`. */
export async function fsmTarget(options: { readonly scenario?: string; readonly env?: NodeJS.ProcessEnv; readonly start?: typeof startStack } = {}): Promise<Target> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bench-fsm-'));
  const env: Record<string, string> = { ...BENCH_ENV };
  for (const [name, value] of Object.entries(options.env ?? {})) if (value !== undefined) env[name] = value;
  const probe = gcStatsEnabled ? withGcProbe(env) : undefined;
  const stack = await (options.start ?? startStack)({ dataDir, env: probe?.env ?? env, runFrom: benchRunFrom() });
  try {
    await stack.waitReady(90_000);
  } catch (error) {
    await stack.stop();
    if (probe !== undefined) removeGcProbeDir(probe.dir);
    throw error;
  }
  const pids: Record<string, number | undefined> = { redis: stack.redis?.pid, client: process.pid };
  for (const app of stack.apps) pids[app.label] = app.pid;
  const accounting = accountingFor(stack);
  return {
    scenario: options.scenario ?? SCENARIOS.fsm,
    pids,
    request: gatewayRequest(stack, 'fsm'),
    batchSince: batchMeter(stack),
    redis: accounting.redis,
    aofRewrites: accounting.aofRewrites,
    ...(probe === undefined ? {} : { gcDir: probe.dir }),
    async stop() {
      accounting.close();
      await stack.stop();
      rmSync(dataDir, { recursive: true, force: true });
      if (probe !== undefined) removeGcProbeDir(probe.dir);
    },
  };
}

/**
 * The queue-hop ceiling: the real issuer-gateway, Redis and BullMQ, with stand-in-ca.ts in place
 * of the ca-service. It answers from one pre-signed leaf, so this is as fast as the system can
 * get whatever the CA costs.
 */
export async function queueHopTarget(): Promise<Target> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bench-hop-'));
  const { base64 } = generateKek();
  const runFrom = benchRunFrom();
  const stack = await startStack({ dataDir, caServices: 0, rotationWorkers: 0, runFrom, env: { ...BENCH_ENV, FSM_KEY_ENCRYPTION_KEY: base64 } });
  const profile = process.env['FSM_PROFILE_DIR'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['FSM_PROFILE_DIR']}`] : [];
  // Like the apps: the build output (tools/bench/dist), or this source through tsx.
  const entry =
    runFrom === 'dist'
      ? [fileURLToPath(new URL('../../dist/issue/stand-in-ca.js', import.meta.url))]
      : ['--import', 'tsx', '--conditions=development', fileURLToPath(new URL('./stand-in-ca.ts', import.meta.url))];
  const standIn = spawn(process.execPath, [...profile, ...entry], {
    env: { ...process.env, REDIS_URL: stack.redisUrl, FSM_KEY_ENCRYPTION_KEY: base64 },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => standIn.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    // The stand-in first, while Redis is still there for its worker to close against.
    standIn.kill('SIGTERM');
    const killer = setTimeout(() => standIn.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(killer);
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      standIn.stdout?.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('ready')) resolve();
      });
      void exited.then(() => reject(new Error('the stand-in CA exited during start-up')));
    });
    await stack.waitReady(90_000);
  } catch (error) {
    await stop();
    throw error;
  }
  const pids: Record<string, number | undefined> = { redis: stack.redis?.pid, client: process.pid, 'stand-in-ca': standIn.pid };
  for (const app of stack.apps) pids[app.label] = app.pid;
  const accounting = accountingFor(stack);
  return {
    scenario: SCENARIOS.queueHop,
    pids,
    request: gatewayRequest(stack, 'hop'),
    batchSince: batchMeter(stack),
    redis: accounting.redis,
    aofRewrites: accounting.aofRewrites,
    async stop() {
      accounting.close();
      await stop();
    },
  };
}
