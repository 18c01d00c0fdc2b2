// The rotation storm of bench:scale, scaled down: `leaves` live certificates in the inventory
// (copies of real records, through the inventory's own commit), then 16 clients asking for new
// certificates for a while without renewals, and again while every one of those leaves is
// re-issued at once (a mass renewal: all `rotate` jobs enqueued together, the worst case of a
// spread). Prints new-request p99 with and without the storm, and how long the storm took.
// kind 'activation' moves the leaves by a root rotation instead (start, then a forced activate,
// spread over windowSeconds): the ca-service's lease holder enqueues them pass by pass, so its
// passes' cost competes with the new requests; it reports the leaves moved by the end of the
// measurement instead of waiting for the whole spread.
// `start` runs another checkout's system (BENCH_BASELINE) through the same scenario.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { DEFAULT_PREFIX, Inventory, createRotateQueue, rotateJobId, type CertificateRecord } from '@fsm-certs/queue';
import { startStack } from '@fsm-certs/stack';
import { postJson } from '../issue/http-post.js';
import { runClosedLoop, type LoadResult } from '../issue/load.js';
import { BENCH_ENV, benchRunFrom, gatewayRequest } from '../issue/targets.js';
import { benchName, loadInventory } from './loader.js';

export interface StormResult {
  readonly leaves: number;
  readonly baseline: LoadResult;
  readonly during: LoadResult;
  readonly stormSeconds: number | undefined;
  readonly windowSeconds: number;
  readonly rotatedLeft: number;
  /** Finished rotate jobs by state: every leaf should be `completed`. */
  readonly finished: Readonly<Record<string, number>>;
  /** kind 'activation': rotate jobs completed when the measurement under the storm ended. */
  readonly movedDuringLoad?: number;
}

async function rotationAction(stack: { gatewayUrl: string; adminToken: string }, body: Record<string, unknown>): Promise<void> {
  const res = await postJson(`${stack.gatewayUrl}/v1/ca/rotation`, body, { authorization: `Bearer ${stack.adminToken}` });
  if (res.status !== 200) throw new Error(`POST /v1/ca/rotation ${JSON.stringify(body)}: the gateway answered ${res.status} ${JSON.stringify(res.body)}`);
}

export async function runStorm(options: { leaves: number; seconds: number; windowSeconds: number; clients: number; kind?: 'renewal' | 'activation'; start?: typeof startStack }): Promise<StormResult> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bench-storm-'));
  const stack = await (options.start ?? startStack)({ dataDir, rotationWorkers: 0, env: { ...BENCH_ENV }, runFrom: benchRunFrom() });
  const redis = new Redis(stack.redisUrl, { maxRetriesPerRequest: null });
  const rotateQueue = createRotateQueue(redis, DEFAULT_PREFIX);
  try {
    await stack.waitReady(120_000);
    const inventory = new Inventory(redis);
    for (let i = 0; i < 16; i += 1) {
      const res = await postJson(`${stack.gatewayUrl}/v1/certificates`, { commonName: `storm-template-${i}.bench.cluster.local`, keyAlgorithm: 'ecdsa-p256', validity: '24h' }, {
        authorization: `Bearer ${stack.adminToken}`,
      });
      if (res.status !== 201) throw new Error(`issuing a template certificate: the gateway answered ${res.status}`);
    }
    const templates: CertificateRecord[] = (await inventory.list({ limit: 16 })).items.map(({ previousSerialNumber: _none, ...r }) => r);
    // Nothing due: renewals come only from the storm below.
    await loadInventory({ redis, prefix: DEFAULT_PREFIX, templates, from: 0, to: options.leaves, nowMs: Date.now(), dueEvery: Number.MAX_SAFE_INTEGER });
    const load = (name: string): Promise<LoadResult> =>
      runClosedLoop({ clients: options.clients, durationMs: options.seconds * 1000, warmupMs: 3_000, request: gatewayRequest(stack, name) });
    const baseline = await load('storm-baseline');

    const started = performance.now();
    if (options.kind === 'activation') {
      await rotationAction(stack, { action: 'start', propagation: '1s', spread: `${options.windowSeconds}s` });
      await rotationAction(stack, { action: 'activate', force: true });
      const during = await load('storm-during');
      const movedDuringLoad = (await rotateQueue.getJobCounts('completed')).completed ?? 0;
      const finished = await rotateQueue.getJobCounts('completed', 'failed');
      return { leaves: options.leaves, baseline, during, stormSeconds: undefined, windowSeconds: options.windowSeconds, rotatedLeft: options.leaves - movedDuringLoad, finished, movedDuringLoad };
    }
    for (let from = 0; from < options.leaves; from += 1000) {
      const names = Array.from({ length: Math.min(1000, options.leaves - from) }, (_, i) => benchName(from + i));
      const serials = await Promise.all(names.map((n) => redis.hget(inventory.keys.cert(n), 'serial')));
      await rotateQueue.addBulk(
        names.map((commonName, i) => {
          const serialNumber = serials[i] ?? '0';
          return { name: 'rotate', data: { version: 1 as const, commonName, serialNumber, reason: 'rotate-scheduled' as const }, opts: { jobId: rotateJobId(commonName, serialNumber) } };
        }),
      );
    }
    const during = await load('storm-during');
    // Bounded wait for the backlog to drain: polls every 500 ms until the window ends.
    let stormSeconds: number | undefined;
    let left = Number.POSITIVE_INFINITY;
    while ((performance.now() - started) / 1000 < options.windowSeconds) {
      const counts = await rotateQueue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      left = Object.values(counts).reduce((a, b) => a + b, 0);
      if (left === 0) {
        stormSeconds = Number(((performance.now() - started) / 1000).toFixed(1));
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const finished = await rotateQueue.getJobCounts('completed', 'failed');
    return { leaves: options.leaves, baseline, during, stormSeconds, windowSeconds: options.windowSeconds, rotatedLeft: left === Number.POSITIVE_INFINITY ? options.leaves : left, finished };
  } finally {
    await rotateQueue.close();
    redis.disconnect();
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
