// `npm run bench:vault-transport`: what the Vault path costs fsm-certs per certificate, without
// the rest of the system. The whole-system pair (bench:issue, BENCH_VAULT=only) swings by 2x
// between rounds on a shared machine; this isolates the Vault client: 16 closed-loop callers in
// this process issue on one OpenBao through each candidate, in interleaved rounds, and the
// process's own CPU time per call is reported (bao's too, for scale). The load loop is the same
// for all, so differences are the candidates'.
//
// Two levels, each for this checkout and, with BENCH_VAULT_BASELINE=<another checkout, built>,
// that checkout (`-baseline`): `transport` (createVaultTransport alone: node-vault over our
// keep-alive requester) and `provider` (VaultProvider.issue, what the ca-service calls per item:
// the client with its retries and logging, the transport, reading the answer into an issued
// certificate and wrapping the key). The provider's callers share one cancellation signal per
// round, as a job's items do.
// BENCH_VAULT_TLS=1 serves OpenBao over https (-dev-tls). BENCH_SECONDS (default 5) per round,
// BENCH_ROUNDS (default 5), BENCH_CLIENTS (default 16), BENCH_WARMUP_SECONDS (default 5).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as providers from '@fsm-certs/providers';
import { median } from '../measure.js';
import { cpuMillis } from './cpu.js';
import { runClosedLoop } from './load.js';
import { startBenchVault, vaultBenchAvailable } from './vault.js';
import { benchEnvNumber } from '../bench-env.js';

const seconds = benchEnvNumber('BENCH_SECONDS', 5);
const rounds = Math.max(1, benchEnvNumber('BENCH_ROUNDS', 5));
const clients = benchEnvNumber('BENCH_CLIENTS', 16);
const warmupSeconds = benchEnvNumber('BENCH_WARMUP_SECONDS', 5);
const baselineCheckout = process.env['BENCH_VAULT_BASELINE'];
const tls = process.env['BENCH_VAULT_TLS'] === '1';

type ProvidersModule = typeof providers;

function isProvidersModule(module: unknown): module is ProvidersModule {
  if (typeof module !== 'object' || module === null) return false;
  return ['createVaultTransport', 'VaultProvider', 'VaultClient', 'staticTokenSource', 'FileSecretStore'].every((name) => name in module);
}

async function baselineProviders(checkout: string): Promise<ProvidersModule> {
  const entry = path.resolve(checkout, 'libs/providers/dist/index.js');
  if (!existsSync(entry)) throw new Error(`BENCH_VAULT_BASELINE: ${entry} does not exist; run \`npm ci && npx tsc -b tsconfig.json\` in ${checkout} first`);
  const module: unknown = await import(pathToFileURL(entry).href);
  if (!isProvidersModule(module)) throw new Error(`BENCH_VAULT_BASELINE: ${entry} does not export the Vault provider`);
  return module;
}

const product = vaultBenchAvailable();
if (product === undefined) {
  console.log(JSON.stringify({ scenario: 'vault-transport', skipped: 'no bao binary: run tools/test-tools/install-openbao.sh' }));
  process.exit(0);
}

const server = await startBenchVault({ tls });
const dataDir = mkdtempSync(path.join(tmpdir(), 'bench-vault-transport-'));
const modules: Array<[string, ProvidersModule]> = [['', providers]];
if (baselineCheckout !== undefined && baselineCheckout !== '') modules.push(['-baseline', await baselineProviders(baselineCheckout)]);

interface Candidate {
  readonly name: string;
  /** One certificate; `signal` is the round's (a job's) cancellation signal. */
  issueOne(signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

let names = 0;
const connection = { address: server.address, ...(server.caPem === undefined ? {} : { caPem: server.caPem }) };
const candidates: Candidate[] = [];
for (const [suffix, module] of modules) {
  const transport = module.createVaultTransport(connection);
  candidates.push({
    name: `transport${suffix}`,
    async issueOne() {
      names += 1;
      const answer = await transport.send({
        method: 'POST',
        path: 'pki/issue/fsm',
        token: server.rootToken,
        body: { common_name: `t-${names}.bench.cluster.local`, ttl: '24h', format: 'pem', key_type: 'ec', key_bits: 256 },
      });
      if (!answer.ok) throw new Error(`vault answered ${answer.status}`);
    },
    close: () => Promise.resolve(transport.close?.()),
  });
  const client = new module.VaultClient({ transport: module.createVaultTransport(connection), tokenSource: module.staticTokenSource(server.rootToken), logger: module.silentLogger });
  const provider = await module.VaultProvider.start({
    client,
    role: 'fsm',
    store: new module.FileSecretStore({ dataDir: path.join(dataDir, `store${suffix}`) }),
    caBundle: { namespace: 'bench', name: 'ca-bundle' },
    logger: module.silentLogger,
  });
  candidates.push({
    name: `provider${suffix}`,
    async issueOne(signal) {
      names += 1;
      const commonName = `p-${names}.bench.cluster.local`;
      const issued = await provider.issue({ commonName, dnsNames: [commonName], uris: [], ipAddresses: [], validityMs: 86_400_000, keyAlgorithm: 'ecdsa-p256' }, signal);
      if (issued.privateKeyPem === undefined) throw new Error('no key');
    },
    close: () => provider.close(),
  });
}

interface Round {
  readonly throughput: number;
  readonly clientUsPerCall: number;
  readonly baoUsPerCall: number;
}

try {
  const warm = new AbortController();
  for (const candidate of candidates) await runClosedLoop({ clients, durationMs: warmupSeconds * 1000, request: () => candidate.issueOne(warm.signal) });
  const results = new Map<string, Round[]>(candidates.map((c) => [c.name, []]));
  for (let round = 1; round <= rounds; round += 1) {
    // Every other round in reverse order, so no candidate always follows the same neighbour.
    for (const candidate of round % 2 === 1 ? candidates : [...candidates].reverse()) {
      const { name } = candidate;
      const job = new AbortController();
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
        request: () => candidate.issueOne(job.signal),
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
  const versus = (name: string): Record<string, number> => {
    const ours = summary[name];
    const baseline = summary[`${name}-baseline`];
    if (ours === undefined || baseline === undefined) return {};
    return {
      [`${name}_client_cpu_us_per_call_minus_baseline`]: ours.client_cpu_us_per_call - baseline.client_cpu_us_per_call,
      [`${name}_throughput_vs_baseline`]: Number((ours.throughput / baseline.throughput).toFixed(2)),
    };
  };
  console.log(
    JSON.stringify({
      scenario: 'summary-vault-transport',
      server: product,
      tls,
      rounds,
      median: summary,
      ...versus('transport'),
      ...versus('provider'),
    }),
  );
} finally {
  for (const candidate of candidates) await candidate.close();
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
}
