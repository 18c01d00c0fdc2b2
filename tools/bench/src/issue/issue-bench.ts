// `npm run bench:issue`: the issuer-gateway (full system: gateway -> queue -> ca-service -> Redis)
// against cfssl's `serve`, both issuing ECDSA P-256 certificates with server-generated keys to 16
// concurrent HTTP clients, one after the other on this machine. Prints one JSON line per scenario
// and a summary with the ratio. Options: BENCH_SECONDS (default 10), BENCH_CLIENTS (default 16).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '@fsm-certs/queue';
import { startStack } from '@fsm-certs/stack';
import { cfsslAvailable, cfsslNewcert, startCfssl } from './cfssl.js';
import { cpuPerOp, sampleCpu } from './cpu.js';
import { runClosedLoop, type LoadResult } from './load.js';

const seconds = Number(process.env['BENCH_SECONDS'] ?? 10);
const clients = Number(process.env['BENCH_CLIENTS'] ?? 16);

function report(scenario: string, r: LoadResult, cpuUsPerCert: Record<string, number> = {}): void {
  console.log(
    JSON.stringify({
      scenario,
      clients,
      seconds: Number(r.seconds.toFixed(2)),
      requests: r.requests,
      errors: r.errors,
      throughput: Number(r.throughput.toFixed(1)),
      p50_ms: Number(r.p50Ms.toFixed(2)),
      p99_ms: Number(r.p99Ms.toFixed(2)),
      cpu_us_per_cert: cpuUsPerCert,
      ...(r.firstError !== undefined ? { first_error: r.firstError } : {}),
    }),
  );
}

async function benchCfssl(): Promise<LoadResult | undefined> {
  if (!cfsslAvailable()) {
    console.log(JSON.stringify({ scenario: 'cfssl-serve-p256-server-key', skipped: 'cfssl not on PATH (apt-get install golang-cfssl)' }));
    return undefined;
  }
  const server = await startCfssl(await freePort());
  try {
    const pids = { cfssl: server.pid, client: process.pid };
    let before = sampleCpu(pids);
    const result = await runClosedLoop({
      clients,
      durationMs: seconds * 1000,
      warmupMs: 1000,
      onMeasureStart: () => (before = sampleCpu(pids)),
      request: (seq) => cfsslNewcert(server.url, `cfssl-${seq}.bench.cluster.local`),
    });
    report('cfssl-serve-p256-server-key', result, cpuPerOp(before, sampleCpu(pids), result.requests));
    return result;
  } finally {
    await server.stop();
  }
}

async function benchGateway(): Promise<LoadResult> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bench-fsm-'));
  const stack = await startStack({ dataDir, env: { LOG_LEVEL: 'warn', GATEWAY_RATE_LIMIT_PER_SEC: '1000000' } });
  try {
    await stack.waitReady(90_000);
    const url = `${stack.gatewayUrl}/v1/certificates`;
    const headers = { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' };
    const pids: Record<string, number | undefined> = { redis: stack.redis?.pid, client: process.pid };
    for (const app of stack.apps) pids[app.label] = app.pid;
    let before = sampleCpu(pids);
    const result = await runClosedLoop({
      clients,
      durationMs: seconds * 1000,
      warmupMs: 1000,
      onMeasureStart: () => (before = sampleCpu(pids)),
      request: async (seq) => {
        const res = await fetch(url, {
          method: 'POST',
          headers,
          body: JSON.stringify({ commonName: `fsm-${seq}.bench.cluster.local`, keyAlgorithm: 'ecdsa-p256', validity: '24h' }),
        });
        const body = (await res.json()) as { privateKey?: unknown };
        if (res.status !== 201 || typeof body.privateKey !== 'string') throw new Error(`gateway answered ${res.status}`);
      },
    });
    report('fsm-certs-gateway-p256-server-key', result, cpuPerOp(before, sampleCpu(pids), result.requests));
    return result;
  } finally {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const baseline = await benchCfssl();
const ours = await benchGateway();
console.log(
  JSON.stringify({
    scenario: 'summary',
    ratio_throughput_vs_cfssl: baseline === undefined ? null : Number((ours.throughput / baseline.throughput).toFixed(2)),
    goal: '>= 1.0 now, >= 2.0 target',
  }),
);
