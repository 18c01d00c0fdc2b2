// `npx tsx --conditions=development tools/bench/src/scale/commit-cost.ts`: Redis's CPU per
// certificate for the issue path's commit script alone, this checkout's against BENCH_BASELINE's
// (a checkout whose libs/queue/src this process imports), in the same run: what the live-leaf
// index's extra ZADD costs Redis. Each system gets its own private redis-server (no AOF: the
// script's CPU, not the disk), pre-filled to BENCH_COMMIT_PREFILL certificates (default 20000),
// then the systems take turns for BENCH_ROUNDS (default 6) rounds of BENCH_COMMIT_BATCHES
// (default 300) commits of 7 new names each (as bench:ca's jobs), order alternating. Redis's CPU
// is `INFO cpu` (used_cpu_sys + used_cpu_user) before and after, so load from other processes
// inflates both alike. Prints one JSON line per round and a summary with medians. Reports, never asserts.
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { IssueBatchStore, startRedisServer, type CertificateRecord, type StoreWrite } from '@fsm-certs/queue';
import { createRootCa, issueLeaf } from '@fsm-certs/x509';
import { median } from '../measure.js';
import { benchEnvNumber } from '../bench-env.js';

const rounds = benchEnvNumber('BENCH_ROUNDS', 6);
const batches = benchEnvNumber('BENCH_COMMIT_BATCHES', 300);
const prefill = benchEnvNumber('BENCH_COMMIT_PREFILL', 20_000);
const ITEMS = 7;

interface Committer {
  commit(writes: readonly StoreWrite[]): Promise<boolean[]>;
}

async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const sys = /^used_cpu_sys:([\d.]+)/m.exec(info)?.[1];
  const user = /^used_cpu_user:([\d.]+)/m.exec(info)?.[1];
  return Number(sys ?? 0) + Number(user ?? 0);
}

function template(): CertificateRecord {
  const ca = createRootCa();
  const now = Date.now();
  const leaf = issueLeaf(ca.issuer, { commonName: 'template.bench.cluster.local', validityMs: 24 * 3600_000 });
  return {
    commonName: 'template.bench.cluster.local',
    serialNumber: leaf.serialNumber,
    notBefore: new Date(now - 60_000).toISOString(),
    notAfter: new Date(now + 24 * 3600_000).toISOString(),
    renewAt: new Date(now + 16 * 3600_000).toISOString(),
    certificatePem: leaf.certificatePem,
    chainPem: [],
    issuingCaPem: ca.issuer.certificatePem,
    trustedCasPem: [ca.issuer.certificatePem],
    issuerId: ca.issuer.fingerprint,
    provider: 'tresor',
    keyAlgorithm: 'ecdsa-p256',
    mode: 'csr',
    dnsNames: [],
    uris: [],
    ipAddresses: [],
    validityMs: 24 * 3600_000,
    issuedAt: new Date(now).toISOString(),
    warnings: [],
  };
}

let counter = 0;
function writes(base: CertificateRecord, n: number): StoreWrite[] {
  return Array.from({ length: n }, (): StoreWrite => {
    counter += 1;
    const commonName = `c-${String(counter).padStart(8, '0')}.bench.cluster.local`;
    const serialNumber = randomBytes(16).toString('hex');
    return {
      kind: 'store',
      record: { ...base, commonName, serialNumber, dnsNames: [commonName] },
      expectSerial: null,
      requestIds: [randomBytes(12).toString('base64url')],
      event: { version: 1, kind: 'issued', at: base.issuedAt, commonName, serialNumber, notAfter: base.notAfter },
    };
  });
}

interface System {
  readonly name: string;
  readonly redis: Redis;
  readonly store: Committer;
  readonly stop: () => Promise<void>;
}

async function startSystem(name: string, make: (redis: Redis) => Committer): Promise<System> {
  const server = await startRedisServer({ appendOnly: false });
  const redis = new Redis(server.url, { maxRetriesPerRequest: null });
  return {
    name,
    redis,
    store: make(redis),
    stop: async () => {
      redis.disconnect();
      await server.stop();
    },
  };
}

async function main(): Promise<void> {
  const baseline = process.env['BENCH_BASELINE'];
  const base = template();
  const systems = [await startSystem('this', (redis) => new IssueBatchStore(redis))];
  if (baseline !== undefined && baseline !== '') {
    const url = pathToFileURL(path.join(path.resolve(baseline), 'libs/queue/src/index.ts')).href;
    const mod = (await import(url)) as { IssueBatchStore: new (redis: Redis) => Committer };
    systems.push(await startSystem('baseline', (redis) => new mod.IssueBatchStore(redis)));
  }
  try {
    for (const system of systems) {
      for (let done = 0; done < prefill; done += 500) await system.store.commit(writes(base, Math.min(500, prefill - done)));
    }
    const perCert = new Map<string, number[]>(systems.map((s) => [s.name, []]));
    for (let round = 1; round <= rounds; round += 1) {
      const order = round % 2 === 1 ? systems : [...systems].reverse();
      for (const system of order) {
        const before = await redisCpuSeconds(system.redis);
        // Two in flight, as bench:ca's jobs.
        let left = batches;
        const lane = async (): Promise<void> => {
          while (left > 0) {
            left -= 1;
            await system.store.commit(writes(base, ITEMS));
          }
        };
        await Promise.all([lane(), lane()]);
        const us = ((await redisCpuSeconds(system.redis)) - before) * 1e6;
        const value = Math.round(us / (batches * ITEMS));
        perCert.get(system.name)?.push(value);
        console.log(JSON.stringify({ system: system.name, round, certs: batches * ITEMS, redis_cpu_us_per_cert: value, load_avg_1m: Number(loadavg()[0]?.toFixed(2)) }));
      }
    }
    const medians = Object.fromEntries([...perCert].map(([name, values]) => [name, median(values)]));
    console.log(JSON.stringify({ summary: true, rounds, batches, items: ITEMS, prefill, median_redis_cpu_us_per_cert: medians, load_avg_1m: Number(loadavg()[0]?.toFixed(2)) }));
  } finally {
    for (const system of systems) await system.stop();
  }
}

await main();
