// `npm run bench:vault-transport`: what the Vault HTTP client alone costs per certificate. The
// whole-system pair (bench:issue, BENCH_VAULT=only) swings by 2x between rounds on a shared
// machine; this isolates the one piece that differs between HTTP clients: 16 closed-loop callers
// in this process `POST pki/issue/fsm` on one OpenBao through each transport, in interleaved
// rounds, and the process's own CPU time per call is reported (bao's too, for scale). The load
// loop is the same for all, so differences are the transports'.
//
// Transports: `node-vault` (libs/providers' createVaultTransport: node-vault 0.12 over axios with
// our keep-alive agent). With BENCH_VAULT_BASELINE=<another checkout, built>, that checkout's
// createVaultTransport as `baseline` (e.g. main before node-vault came back: node:http(s)).
// BENCH_VAULT_TLS=1 serves OpenBao over https (-dev-tls). BENCH_SECONDS (default 5) per round,
// BENCH_ROUNDS (default 5), BENCH_CLIENTS (default 16), BENCH_WARMUP_SECONDS (default 5).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createVaultTransport } from '@fsm-certs/providers';
import type { VaultTransport, VaultTransportOptions } from '@fsm-certs/providers';
import { median } from '../measure.js';
import { cpuMillis } from './cpu.js';
import { runClosedLoop } from './load.js';
import { startBenchVault, vaultBenchAvailable } from './vault.js';

const seconds = Number(process.env['BENCH_SECONDS'] ?? 5);
const rounds = Math.max(1, Number(process.env['BENCH_ROUNDS'] ?? 5));
const clients = Number(process.env['BENCH_CLIENTS'] ?? 16);
const warmupSeconds = Number(process.env['BENCH_WARMUP_SECONDS'] ?? 5);
const baselineCheckout = process.env['BENCH_VAULT_BASELINE'];
const tls = process.env['BENCH_VAULT_TLS'] === '1';

type CreateTransport = (options: VaultTransportOptions) => VaultTransport;

function isProvidersModule(module: unknown): module is { createVaultTransport: CreateTransport } {
  return typeof module === 'object' && module !== null && 'createVaultTransport' in module && typeof module.createVaultTransport === 'function';
}

async function baselineTransport(checkout: string): Promise<CreateTransport> {
  const entry = path.resolve(checkout, 'libs/providers/dist/index.js');
  if (!existsSync(entry)) throw new Error(`BENCH_VAULT_BASELINE: ${entry} does not exist; run \`npm ci && npx tsc -b tsconfig.json\` in ${checkout} first`);
  const module: unknown = await import(pathToFileURL(entry).href);
  if (!isProvidersModule(module)) throw new Error(`BENCH_VAULT_BASELINE: ${entry} exports no createVaultTransport`);
  return module.createVaultTransport;
}

const product = vaultBenchAvailable();
if (product === undefined) {
  console.log(JSON.stringify({ scenario: 'vault-transport', skipped: 'no bao binary: run tools/test-tools/install-openbao.sh' }));
  process.exit(0);
}

const server = await startBenchVault({ tls });
const candidates: Array<[string, CreateTransport]> = [['node-vault', createVaultTransport]];
if (baselineCheckout !== undefined && baselineCheckout !== '') candidates.push(['baseline', await baselineTransport(baselineCheckout)]);
const transports = candidates.map(([name, create]) => ({
  name,
  transport: create({ address: server.address, ...(server.caPem === undefined ? {} : { caPem: server.caPem }) }),
}));

let names = 0;
async function issueOne(transport: VaultTransport): Promise<void> {
  names += 1;
  const answer = await transport.send({
    method: 'POST',
    path: 'pki/issue/fsm',
    token: server.rootToken,
    body: { common_name: `t-${names}.bench.cluster.local`, ttl: '24h', format: 'pem', key_type: 'ec', key_bits: 256 },
  });
  if (!answer.ok) throw new Error(`vault answered ${answer.status}`);
}

interface Round {
  readonly throughput: number;
  readonly clientUsPerCall: number;
  readonly baoUsPerCall: number;
}

try {
  for (const { transport } of transports) await runClosedLoop({ clients, durationMs: warmupSeconds * 1000, request: () => issueOne(transport) });
  const results = new Map<string, Round[]>(transports.map((t) => [t.name, []]));
  for (let round = 1; round <= rounds; round += 1) {
    for (const { name, transport } of transports) {
      let cpu = process.cpuUsage();
      let bao = cpuMillis(server.pid) ?? NaN;
      const load = await runClosedLoop({
        clients,
        durationMs: seconds * 1000,
        warmupMs: 500,
        onMeasureStart: () => {
          cpu = process.cpuUsage();
          bao = cpuMillis(server.pid) ?? NaN;
        },
        request: () => issueOne(transport),
      });
      const used = process.cpuUsage(cpu);
      const calls = Math.max(1, load.requests);
      const result: Round = {
        throughput: load.throughput,
        clientUsPerCall: (used.user + used.system) / calls,
        baoUsPerCall: (((cpuMillis(server.pid) ?? NaN) - bao) * 1000) / calls,
      };
      results.get(name)?.push(result);
      console.log(
        JSON.stringify({
          scenario: `vault-transport-${name}`,
          round,
          tls,
          clients,
          requests: load.requests,
          errors: load.errors,
          throughput: Number(result.throughput.toFixed(1)),
          p50_ms: Number(load.p50Ms.toFixed(2)),
          client_cpu_us_per_call: Math.round(result.clientUsPerCall),
          bao_cpu_us_per_call: Math.round(result.baoUsPerCall),
          ...(load.firstError !== undefined ? { first_error: load.firstError } : {}),
        }),
      );
    }
  }
  const summary = Object.fromEntries(
    [...results].map(([name, rs]) => [
      name,
      {
        throughput: Number(median(rs.map((r) => r.throughput)).toFixed(1)),
        client_cpu_us_per_call: Math.round(median(rs.map((r) => r.clientUsPerCall))),
        bao_cpu_us_per_call: Math.round(median(rs.map((r) => r.baoUsPerCall))),
      },
    ]),
  );
  const nodeVault = summary['node-vault'];
  const baseline = summary['baseline'];
  console.log(
    JSON.stringify({
      scenario: 'summary-vault-transport',
      server: product,
      tls,
      rounds,
      median: summary,
      ...(nodeVault !== undefined && baseline !== undefined
        ? {
            client_cpu_us_per_call_node_vault_minus_baseline: nodeVault.client_cpu_us_per_call - baseline.client_cpu_us_per_call,
            throughput_node_vault_vs_baseline: Number((nodeVault.throughput / baseline.throughput).toFixed(2)),
          }
        : {}),
    }),
  );
} finally {
  for (const { transport } of transports) transport.close?.();
  await server.close();
}
