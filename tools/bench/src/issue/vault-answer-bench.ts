// What the Vault provider's own code costs per certificate, without the network: one real answer
// of OpenBao's `pki/issue` is taken once, then VaultProvider.issue runs against a transport that
// hands that answer back at once (16 calls in flight per turn, the callers sharing one
// cancellation signal as a job's items do), beside the canned transport alone and the two largest
// pieces of reading the answer (JSON.parse, the leaf's facts). CPU µs per call of this process.
// `npx tsx --conditions=development tools/bench/src/issue/vault-answer-bench.ts`
// (BENCH_ITERATIONS, default 2000 turns of 16 calls, after as many to warm up).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FileSecretStore, VaultClient, VaultProvider, createVaultTransport, silentLogger, staticTokenSource } from '@fsm-certs/providers';
import type { VaultTransport, VaultTransportRequest, VaultTransportResponse } from '@fsm-certs/providers';
import { certificateFacts } from '@fsm-certs/x509';
import { startBenchVault, vaultBenchAvailable } from './vault.js';
import { benchEnvNumber } from '../bench-env.js';

const turns = benchEnvNumber('BENCH_ITERATIONS', 2000);
const product = vaultBenchAvailable();
if (product === undefined) {
  console.log(JSON.stringify({ scenario: 'vault-answer', skipped: 'no bao binary: run tools/test-tools/install-openbao.sh' }));
  process.exit(0);
}

function cpuUsPerCall(calls: number, run: () => void): number {
  run();
  const before = process.cpuUsage();
  run();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / calls;
}

async function cpuUsPerAsyncCall(call: () => Promise<unknown>): Promise<number> {
  const run = async (): Promise<void> => {
    for (let i = 0; i < turns; i++) await Promise.all(Array.from({ length: 16 }, call));
  };
  await run();
  const before = process.cpuUsage();
  await run();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / (turns * 16);
}

const server = await startBenchVault();
const dataDir = mkdtempSync(path.join(tmpdir(), 'bench-vault-answer-'));
const live = createVaultTransport({ address: server.address });
try {
  const sample = await live.send({ method: 'POST', path: 'pki/issue/fsm', token: server.rootToken, body: { common_name: 'answer.bench.cluster.local', ttl: '24h', format: 'pem' } });
  if (!sample.ok) throw new Error(`vault answered ${sample.status}`);
  const text = JSON.stringify(sample.body);
  // Start-up (token, capabilities, issuers, role) goes to the real server; issue calls get the canned answer.
  let canned = false;
  const transport: VaultTransport = {
    address: server.address,
    send(request: VaultTransportRequest): Promise<VaultTransportResponse> {
      if (canned && request.path.includes('/issue/')) return Promise.resolve({ ok: true, body: JSON.parse(text) as unknown });
      return live.send(request);
    },
  };
  const client = new VaultClient({ transport, tokenSource: staticTokenSource(server.rootToken), logger: silentLogger });
  const provider = await VaultProvider.start({ client, role: 'fsm', store: new FileSecretStore({ dataDir }), caBundle: { namespace: 'bench', name: 'ca-bundle' }, logger: silentLogger });
  canned = true;
  const job = new AbortController();
  const request = { commonName: 'answer.bench.cluster.local', dnsNames: ['answer.bench.cluster.local'], uris: [], ipAddresses: [], validityMs: 86_400_000, keyAlgorithm: 'ecdsa-p256' as const };
  const leafPem = (JSON.parse(text) as { data: { certificate: string } }).data.certificate;
  const result = {
    scenario: 'vault-answer',
    server: product,
    answer_bytes: text.length,
    provider_issue_us: Number((await cpuUsPerAsyncCall(() => provider.issue(request, job.signal))).toFixed(1)),
    canned_transport_us: Number((await cpuUsPerAsyncCall(() => transport.send({ method: 'POST', path: 'pki/issue/fsm' }))).toFixed(1)),
    json_parse_us: Number(cpuUsPerCall(turns * 16, () => { for (let i = 0; i < turns * 16; i++) JSON.parse(text); }).toFixed(1)),
    leaf_facts_us: Number(cpuUsPerCall(turns * 16, () => { for (let i = 0; i < turns * 16; i++) certificateFacts(leafPem); }).toFixed(1)),
  };
  console.log(JSON.stringify(result));
  await provider.close();
} finally {
  live.close?.();
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
}
