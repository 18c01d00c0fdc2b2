// The inventory's commit script alone (issue 15): what one IssueBatchStore.commit costs Redis per
// certificate, this checkout's against BENCH_BASELINE's (its libs/queue build output), without
// BullMQ, the ca-service or a gateway around it. Two redis-servers configured as the stack's (AOF,
// everysec) take turns in BENCH_ROUNDS (default 8) interleaved rounds of BENCH_SECONDS (default 3);
// on each, BENCH_JOBS_IN_FLIGHT (default 2) lanes commit batches of BENCH_ITEMS (default 7)
// store-if-new writes of new names with one request id each, as the ca-service's batches at 16
// clients; BENCH_AUDIT=1 gives every write an audit record, as the gateway's HTTP requests do.
// Each write carries a real P-256 leaf and a sealed-key-sized field, so records are as large as
// the stack's. Prints per round Redis's CPU per certificate, and per side over all rounds the
// commands and AOF bytes per certificate (redis-accounting.ts). Then, as CPU time on a shared
// machine swings by more than a small change, both stores take turns batch by batch on one more
// redis-server (each under its own prefix) for BENCH_PAIRED_BATCHES (default 3000) batches each,
// one at a time, with the slow log recording every call: each script call's own duration, so a
// neighbour's burst hits both alike. Prints the median and mean µs per certificate of each side's
// commit calls (the script's run only: not reading the request, nor writing the AOF).
//   BENCH_BASELINE=/path/to/checkout npx tsx --conditions=development tools/bench/src/commit-script-bench.ts
import { randomBytes, randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { AuditLog, IssueBatchStore, createRedisConnection, startRedisServer, type BatchWrite, type CertificateRecord, type RedisServerHandle } from '@fsm-certs/queue';
import { createRootCa, issueLeaf } from '@fsm-certs/x509';
import type { Redis } from 'ioredis';
import { cpuMillis } from './issue/cpu.js';
import { driveLanes, median } from './measure.js';
import { RedisAccounting } from './redis-accounting.js';
import { DAY_MS, serverKeyRecord } from './bench-record.js';
import { benchEnvNumber } from './bench-env.js';

const seconds = benchEnvNumber('BENCH_SECONDS', 3);
const rounds = Math.max(1, benchEnvNumber('BENCH_ROUNDS', 8));
const items = Math.max(1, benchEnvNumber('BENCH_ITEMS', 7));
const inFlight = Math.max(1, benchEnvNumber('BENCH_JOBS_IN_FLIGHT', 2));
const audit = process.env['BENCH_AUDIT'] === '1';
const baseline = process.env['BENCH_BASELINE'];
const pairedBatches = Math.max(0, benchEnvNumber('BENCH_PAIRED_BATCHES', 3000));
if (baseline === undefined) throw new Error('Set BENCH_BASELINE to a built checkout to compare this one with.');

/** What both sides' stores are used for: commit() as IssueBatchStore's. */
interface Committer {
  commit(writes: readonly BatchWrite[]): Promise<boolean[]>;
}
type CommitterClass = new (redis: Redis, options?: { readonly prefix?: string }) => Committer;

async function baselineStore(): Promise<CommitterClass> {
  const loaded: unknown = await import(pathToFileURL(path.join(path.resolve(baseline ?? ''), 'libs/queue/dist/index.js')).href);
  const candidate: unknown = typeof loaded === 'object' && loaded !== null && 'IssueBatchStore' in loaded ? loaded.IssueBatchStore : undefined;
  if (typeof candidate !== 'function') throw new Error(`${baseline}: libs/queue/dist/index.js exports no IssueBatchStore; build that checkout first.`);
  return candidate as CommitterClass;
}

const ca = createRootCa();
const leaf = issueLeaf(ca.issuer, { commonName: 'bench.bookstore.cluster.local', dnsNames: ['bench.bookstore.cluster.local'], validityMs: DAY_MS });
const sealedKey = `v2.${randomBytes(180).toString('base64url')}`;

function record(commonName: string, now: number): CertificateRecord {
  return serverKeyRecord({
    commonName,
    serialNumber: randomBytes(16).toString('hex').replace(/^0+/, '') || '1',
    notBefore: new Date(now),
    notAfter: new Date(now + DAY_MS),
    renewAt: new Date(now + 16 * 3600 * 1000),
    certificatePem: leaf.certificatePem,
    caPem: ca.certificatePem,
    issuerId: 'ab'.repeat(32),
    encryptedPrivateKey: sealedKey,
    issuedAt: new Date(now),
  });
}

let names = 0;
function batch(): BatchWrite[] {
  const now = Date.now();
  return Array.from({ length: items }, (): BatchWrite => {
    const r = record(`svc-${(names += 1)}.bench.cluster.local`, now);
    return {
      kind: 'store',
      record: r,
      expectSerial: null,
      requestIds: [randomUUID()],
      unlessRequestKnown: true,
      event: { version: 1, kind: 'issued', at: r.issuedAt, commonName: r.commonName, serialNumber: r.serialNumber, notAfter: r.notAfter },
      ...(audit ? { audit: { id: AuditLog.newId(now), operation: 'issueCertificate' as const, caller: 'bookstore-operator', clientAddress: '127.0.0.1', requestId: randomUUID() } } : {}),
    };
  });
}

interface Side {
  readonly name: 'this' | 'baseline';
  readonly server: RedisServerHandle;
  readonly redis: Redis;
  readonly store: Committer;
  readonly accounting: RedisAccounting;
}

async function startSide(name: Side['name'], Store: CommitterClass): Promise<Side> {
  const server = await startRedisServer({ appendOnly: true });
  const redis = createRedisConnection(server.url, { role: 'client' });
  return { name, server, redis, store: new Store(redis), accounting: new RedisAccounting(redis) };
}

function drive(side: Side, ms: number): Promise<number> {
  return driveLanes(inFlight, ms, async () => {
    const applied = await side.store.commit(batch());
    if (!applied.every(Boolean)) throw new Error(`${side.name}: a write of new names was refused`);
    return applied.length;
  });
}

/** Each commit's EVALSHA duration (µs) in the slow log, by the prefix of its first key. */
async function commitDurations(redis: Redis, into: Map<string, number[]>): Promise<void> {
  const entries: unknown = await redis.slowlog('GET', '-1');
  await redis.slowlog('RESET');
  for (const entry of Array.isArray(entries) ? (entries as unknown[]) : []) {
    // An entry: id, time, duration µs, arguments, ...
    if (!Array.isArray(entry)) continue;
    const [, , usec, args]: unknown[] = entry;
    if (!Array.isArray(args) || String(args[0]).toLowerCase() !== 'evalsha') continue;
    into.get(String(args[3]).split(':')[0] ?? '')?.push(Number(usec));
  }
}

async function paired(Stores: Record<Side['name'], CommitterClass>): Promise<void> {
  const server = await startRedisServer({ appendOnly: true });
  const redis = createRedisConnection(server.url, { role: 'client' });
  try {
    const prefixes: Record<Side['name'], string> = { this: '{this}', baseline: '{baseline}' };
    const stores = (['this', 'baseline'] as const).map((name) => ({ prefix: prefixes[name], store: new Stores[name](redis, { prefix: prefixes[name] }) }));
    for (let i = 0; i < 200; i++) for (const { store } of stores) await store.commit(batch());
    const durations = new Map<string, number[]>(stores.map((s) => [s.prefix, []]));
    await redis.config('SET', 'slowlog-log-slower-than', '0');
    await redis.config('SET', 'slowlog-max-len', '100000');
    await redis.slowlog('RESET');
    for (let i = 0; i < pairedBatches; i++) {
      for (const { store } of i % 2 === 0 ? stores : [...stores].reverse()) await store.commit(batch());
      if (i % 1000 === 999) await commitDurations(redis, durations);
    }
    await commitDurations(redis, durations);
    const perCert = (values: readonly number[]): { calls: number; median_us_per_cert: number; mean_us_per_cert: number } => ({
      calls: values.length,
      median_us_per_cert: Math.round((median(values) / items) * 10) / 10,
      mean_us_per_cert: Math.round((values.reduce((a, b) => a + b, 0) / values.length / items) * 10) / 10,
    });
    console.log(JSON.stringify({ paired_slowlog: true, batches_each: pairedBatches, this: perCert(durations.get(prefixes.this) ?? []), baseline: perCert(durations.get(prefixes.baseline) ?? []), load_avg_1m: Number(loadavg()[0]?.toFixed(2)) }));
  } finally {
    redis.disconnect();
    await server.stop();
  }
}

const Baseline = await baselineStore();
const sides = [await startSide('this', IssueBatchStore), await startSide('baseline', Baseline)];
try {
  for (const side of sides) await drive(side, 2000);
  const perCert = new Map<string, number[]>(sides.map((s) => [s.name, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const side of round % 2 === 1 ? sides : [...sides].reverse()) {
      await side.accounting.begin();
      const before = cpuMillis(side.server.pid) ?? NaN;
      const certs = await drive(side, seconds * 1000);
      const us = Math.round((((cpuMillis(side.server.pid) ?? NaN) - before) * 1000) / certs);
      await side.accounting.end(certs);
      perCert.get(side.name)?.push(us);
      console.log(JSON.stringify({ system: side.name, round, certs, redis_cpu_us_per_cert: us, load_avg_1m: Number(loadavg()[0]?.toFixed(2)) }));
    }
  }
  for (const side of sides) console.log(JSON.stringify({ system: side.name, redis_accounting: side.accounting.report(12) }));
  const mine = perCert.get('this') ?? [];
  const theirs = perCert.get('baseline') ?? [];
  console.log(
    JSON.stringify({
      summary: true,
      items,
      in_flight: inFlight,
      audit,
      median_redis_cpu_us_per_cert: { this: median(mine), baseline: median(theirs) },
      this_vs_baseline_per_round: mine.map((m, i) => Math.round((m / (theirs[i] ?? NaN)) * 100) / 100),
      load_avg_1m: Number(loadavg()[0]?.toFixed(2)),
    }),
  );
} finally {
  for (const side of sides) {
    side.redis.disconnect();
    await side.server.stop();
  }
}
if (pairedBatches > 0) await paired({ this: IssueBatchStore, baseline: Baseline });
