// The replicas scenario of bench:scale: the whole system with one ca-service, then with two on
// the same Redis, each driven by the same closed loop of 16 clients asking for unique names.
// Prints the throughput of each and checks that no certificate was issued twice: every name was
// asked for once, so every name must hold exactly one certificate that replaced none, and no
// name may be announced as issued twice.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { DEFAULT_PREFIX, Inventory, keyspace } from '@fsm-certs/queue';
import { startStack } from '@fsm-certs/stack';
import { runClosedLoop } from '../issue/load.js';
import { BENCH_ENV, benchRunFrom, gatewayRequest } from '../issue/targets.js';

export interface ReplicaRun {
  readonly caServices: number;
  readonly throughput: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  readonly errors: number;
  readonly names: number;
  /** Names whose certificate replaced another one (a second issuance). */
  readonly reissuedNames: number;
  /** Names announced as issued more than once among the retained events. */
  readonly duplicateIssuedEvents: number;
}

/** Every record of the inventory, page by page (bounded by the page count). */
async function countNames(inventory: Inventory): Promise<{ names: number; reissued: number }> {
  let names = 0;
  let reissued = 0;
  let cursor: string | undefined;
  for (let pages = 0; pages < 100_000; pages += 1) {
    const page = await inventory.list({ limit: 1000, ...(cursor === undefined ? {} : { cursor }) });
    for (const record of page.items) {
      names += 1;
      if (record.previousSerialNumber !== undefined) reissued += 1;
    }
    if (page.nextCursor === undefined) break;
    cursor = page.nextCursor;
  }
  return { names, reissued };
}

async function duplicateIssued(redis: Redis): Promise<number> {
  const seen = new Map<string, number>();
  const entries = await redis.xrange(keyspace(DEFAULT_PREFIX).events, '-', '+');
  for (const [, fields] of entries) {
    const json = fields[1];
    if (json === undefined) continue;
    const event = JSON.parse(json) as { kind?: string; commonName?: string };
    if (event.kind === 'issued' && typeof event.commonName === 'string') seen.set(event.commonName, (seen.get(event.commonName) ?? 0) + 1);
  }
  return [...seen.values()].filter((n) => n > 1).length;
}

export async function runReplicas(caServices: number, options: { clients: number; seconds: number; warmupSeconds: number }): Promise<ReplicaRun> {
  const dataDir = mkdtempSync(path.join(tmpdir(), `bench-replicas-${caServices}-`));
  const stack = await startStack({ dataDir, caServices, rotationWorkers: 0, env: { ...BENCH_ENV }, runFrom: benchRunFrom() });
  try {
    await stack.waitReady(120_000);
    const load = await runClosedLoop({
      clients: options.clients,
      durationMs: options.seconds * 1000,
      warmupMs: options.warmupSeconds * 1000,
      request: gatewayRequest(stack, `replicas-${caServices}`),
    });
    const redis = new Redis(stack.redisUrl, { maxRetriesPerRequest: null });
    try {
      const { names, reissued } = await countNames(new Inventory(redis));
      return {
        caServices,
        throughput: Math.round(load.throughput),
        p50Ms: Number(load.p50Ms.toFixed(1)),
        p99Ms: Number(load.p99Ms.toFixed(1)),
        requests: load.requests,
        errors: load.errors,
        names,
        reissuedNames: reissued,
        duplicateIssuedEvents: await duplicateIssued(redis),
      };
    } finally {
      redis.disconnect();
    }
  } finally {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
