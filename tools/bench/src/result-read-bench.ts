// What reading one issue job's result costs the gateway and Redis, v2 against v3 (issue results
// v3, docs/adr/0010): v2 delivers every record in the result (~1.7 KB of JSON per item), which
// the gateway parses, checks and fills with the trust bundle's PEMs; v3 delivers names
// (~150 bytes per item) and the gateway reads the named binary records back from the inventory
// in one round trip (Inventory.readStored: one script call), then decodes them. One redis-server configured as the stack's
// (AOF) holds BENCH_ITEMS-item jobs (default 7) of real P-256 leaves with sealed keys, stored by
// Inventory.put; each job's result sits in a string key, and fetching it with GET stands for the
// events reader's XREAD delivering it (the same bytes cross the same socket). BENCH_JOBS_IN_FLIGHT
// (default 2) lanes read jobs in interleaved rounds of v2 and v3; prints this process's CPU per
// job (the gateway's share: reply parsing, JSON, checks, decoding) and Redis's, both per
// certificate too. The private keys are not opened: both forms hand the same sealed key on.
//   npx tsx --conditions=development tools/bench/src/result-read-bench.ts
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import {
  Inventory,
  createRedisConnection,
  generateKek,
  plainlyValidRecord,
  sealPrivateKeyDer,
  startRedisServer,
  trustBundleDigest,
  type CertificateRecord,
  type StoredName,
} from '@fsm-certs/queue';
import { createRootCa, issueLeaf } from '@fsm-certs/x509';
import { cpuMillis } from './issue/cpu.js';
import { driveLanes, median } from './measure.js';
import { DAY_MS, leafRecord } from './bench-record.js';
import { benchEnvNumber } from './bench-env.js';

const seconds = benchEnvNumber('BENCH_SECONDS', 3);
const rounds = Math.max(1, benchEnvNumber('BENCH_ROUNDS', 6));
const inFlight = Math.max(1, benchEnvNumber('BENCH_JOBS_IN_FLIGHT', 2));
const items = Math.max(1, benchEnvNumber('BENCH_ITEMS', 7));
const JOBS = 64;
const PREFIX = '{fsm-certs}';

const ca = createRootCa();
const { kek } = generateKek();
const server = await startRedisServer({ appendOnly: true });
const redis = createRedisConnection(server.url, { role: 'client' });
const inventory = new Inventory(redis, { prefix: PREFIX });

function issuedRecord(commonName: string): CertificateRecord {
  const now = new Date();
  const leaf = issueLeaf(ca.issuer, { commonName, dnsNames: [commonName], validityMs: DAY_MS, now });
  const sealed = sealPrivateKeyDer(kek, leaf.privateKeyDer ?? Buffer.alloc(0), commonName, leaf.serialNumber);
  return leafRecord(leaf, { commonName, caPem: ca.certificatePem, issuerId: 'ab'.repeat(32), encryptedPrivateKey: sealed.text, issuedAt: now });
}

const digest = trustBundleDigest(ca.certificatePem, [ca.certificatePem]);
const jobs: Array<{ readonly names: readonly StoredName[] }> = [];
for (let j = 0; j < JOBS; j++) {
  const records = Array.from({ length: items }, (_, i) => issuedRecord(`read-${j}-${i}.bench.cluster.local`));
  for (const record of records) await inventory.put(record);
  const ids = records.map(() => randomUUID());
  const v2 = records.map(({ issuingCaPem: _i, trustedCasPem: _t, ...rest }, i) => ({ requestId: ids[i], ok: true, certificate: rest, trustBundleDigest: digest }));
  const v3 = records.map((r, i) => ({ requestId: ids[i], ok: true, commonName: r.commonName, serialNumber: r.serialNumber }));
  await redis.set(`bench:v2:${j}`, JSON.stringify({ version: 2, results: v2 }));
  await redis.set(`bench:v3:${j}`, JSON.stringify({ version: 3, results: v3 }));
  jobs.push({ names: records.map(({ commonName, serialNumber }) => ({ commonName, serialNumber })) });
}
const bytes = { v2: await redis.strlen('bench:v2:0'), v3: await redis.strlen('bench:v3:0') };

type Form = 'v2' | 'v3';

/** One job's result as the gateway turns it into whole records; throws if a record is missing. */
async function readJob(form: Form, j: number): Promise<number> {
  const json = await redis.get(`bench:${form}:${j}`);
  const result = JSON.parse(json ?? 'null') as { results: Array<Record<string, unknown>> };
  if (form === 'v2') {
    const whole: object[] = [];
    for (const item of result.results) {
      const certificate = item['certificate'];
      if (typeof certificate !== 'object' || certificate === null || !plainlyValidRecord(certificate, { caPemsOptional: true })) throw new Error('not a plain record');
      whole.push({ ...certificate, issuingCaPem: ca.certificatePem, trustedCasPem: [ca.certificatePem] });
    }
    return whole.length;
  }
  const names = result.results.map((item) => ({ commonName: String(item['commonName']), serialNumber: String(item['serialNumber']) }));
  const reads = await inventory.readStored(names);
  for (const read of reads) if (read.kind !== 'stored') throw new Error(`${read.kind} record`);
  return reads.length;
}

let next = 0;
function drive(form: Form, ms: number): Promise<number> {
  return driveLanes(inFlight, ms, async () => {
    await readJob(form, (next += 1) % JOBS);
    return 1;
  });
}

try {
  for (const form of ['v2', 'v3'] as const) await drive(form, 2000);
  const perJob: Record<Form, { gateway: number[]; redis: number[] }> = { v2: { gateway: [], redis: [] }, v3: { gateway: [], redis: [] } };
  for (let round = 1; round <= rounds; round++) {
    for (const form of round % 2 === 1 ? (['v2', 'v3'] as const) : (['v3', 'v2'] as const)) {
      const own = process.cpuUsage();
      const redisBefore = cpuMillis(server.pid) ?? Number.NaN;
      const count = await drive(form, seconds * 1000);
      const spent = process.cpuUsage(own);
      const gateway = Math.round((spent.user + spent.system) / count);
      const redisUs = Math.round((((cpuMillis(server.pid) ?? Number.NaN) - redisBefore) * 1000) / count);
      perJob[form].gateway.push(gateway);
      perJob[form].redis.push(redisUs);
      console.log(JSON.stringify({ form, round, jobs: count, gateway_cpu_us_per_job: gateway, redis_cpu_us_per_job: redisUs, load_avg_1m: Number(loadavg()[0]?.toFixed(2)) }));
    }
  }
  const summary = (form: Form) => ({
    gateway_cpu_us_per_job: median(perJob[form].gateway),
    redis_cpu_us_per_job: median(perJob[form].redis),
    gateway_cpu_us_per_cert: Math.round(median(perJob[form].gateway) / items),
    redis_cpu_us_per_cert: Math.round((median(perJob[form].redis) / items) * 10) / 10,
  });
  console.log(
    JSON.stringify({
      summary: true,
      items,
      result_bytes: bytes,
      v2: summary('v2'),
      v3: summary('v3'),
      gateway_v3_over_v2_per_round: perJob.v3.gateway.map((v, i) => Math.round((v / (perJob.v2.gateway[i] ?? Number.NaN)) * 100) / 100),
      redis_v3_over_v2_per_round: perJob.v3.redis.map((v, i) => Math.round((v / (perJob.v2.redis[i] ?? Number.NaN)) * 100) / 100),
      load_avg_1m: Number(loadavg()[0]?.toFixed(2)),
    }),
  );
} finally {
  redis.disconnect();
  await server.stop();
}
