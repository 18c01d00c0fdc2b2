// Gateway-only benchmark of the issue path: a real Redis and BullMQ, the real issuer-gateway in
// its own process, and a stand-in ca-service worker (in a second process) that answers every
// item with a pre-signed record. Prints the gateway's CPU microseconds per certificate, so a
// change to the gateway can be judged without the ca-service's cost and noise.
// Run from the repo root: node --import tsx --conditions=development libs/gateway/test/perf/issue-path.bench.ts
// Env: BENCH_SECONDS (default 6), BENCH_CLIENTS (default 16), GW_PROFILE_DIR (cpu profile of the gateway).
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRedisConnection, generateKek, startRedisServer } from '@fsm-certs/queue';

const seconds = Number(process.env['BENCH_SECONDS'] ?? 6);
const clients = Number(process.env['BENCH_CLIENTS'] ?? 16);
const here = fileURLToPath(import.meta.url);
const TOKEN = 'bench-admin-token-0123456789';

function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}

function child(role: string, env: Record<string, string>): Promise<{ proc: ChildProcess; url: string }> {
  const execArgv = ['--import', 'tsx', '--conditions=development'];
  if (role === 'gateway' && process.env['GW_PROFILE_DIR']) execArgv.push('--cpu-prof', `--cpu-prof-dir=${process.env['GW_PROFILE_DIR']}`);
  const proc = fork(here.replace('issue-path.bench.ts', 'issue-path.child.ts'), [role], { env: { ...process.env, ...env }, execArgv, stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    proc.once('message', (m) => resolve({ proc, url: String(m) }));
    proc.once('exit', (code) => reject(new Error(`${role} exited ${code}`)));
  });
}

const redis = await startRedisServer({ appendOnly: false });
const { base64 } = generateKek();
const env = { REDIS_URL: redis.url, KEK: base64, TOKEN };
const worker = await child('worker', env);
const gateway = await child('gateway', env);
const url = `${gateway.url}/v1/certificates`;
let seq = 0;
let measuring = false;
let done = 0;
let errors = 0;
const stopAt = Date.now() + 1000 + seconds * 1000;
let startCpu = 0;
let startAt = 0;
setTimeout(() => {
  measuring = true;
  startCpu = cpuMs(gateway.proc.pid ?? 0);
  startAt = performance.now();
}, 1000);
await Promise.all(
  Array.from({ length: clients }, async () => {
    while (Date.now() < stopAt) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ commonName: `fsm-${++seq}.bench.cluster.local`, keyAlgorithm: 'ecdsa-p256', validity: '24h' }),
      });
      const body = (await res.json()) as { privateKey?: unknown };
      if (res.status !== 201 || typeof body.privateKey !== 'string') errors++;
      if (measuring) done++;
    }
  }),
);
const cpu = cpuMs(gateway.proc.pid ?? 0) - startCpu;
// Redis round trips per certificate (whole run, warm-up included): script calls (job add and
// worker moves) and event reads.
const admin = createRedisConnection(redis.url, { role: 'client' });
const commandStats = String(await admin.info('commandstats'));
admin.disconnect();
const total = seq;
const commands: Record<string, number> = {};
for (const m of commandStats.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) {
  const perCert = Number(m[2]) / total;
  if ((m[1] === 'xread' || m[1] === 'evalsha') && perCert > 0) commands[m[1]] = Number(perCert.toFixed(2));
}
const elapsed = (performance.now() - startAt) / 1000;
const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
const metric = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN);
const avgBatch = metric('fsm_certs_gateway_issue_batch_size_sum') / metric('fsm_certs_gateway_issue_batch_size_count');
console.log(
  JSON.stringify({
    requests: done,
    errors,
    throughput: Math.round(done / elapsed),
    gateway_cpu_us_per_cert: Math.round((cpu * 1000) / done),
    avg_batch: Number(avgBatch.toFixed(1)),
    redis_calls_per_cert: commands,
  }),
);
for (const c of [gateway, worker]) {
  c.proc.kill('SIGTERM');
  await new Promise((r) => c.proc.once('exit', r));
}
await redis.stop();
