// The Vault pair of bench:issue: OpenBao's own `pki/issue` driven directly (`vault-direct`, the
// baseline) against the whole fsm-certs system with CERT_MANAGER=vault issuing through the same
// server (`fsm-certs-vault`). Both ask for P-256 server-key leaves from one `bao server -dev`
// (found like the Vault test suites find it: .tools/bin/bao from tools/test-tools/install-openbao.sh).
// BENCH_VAULT_BASELINE=<another checkout, built> adds `fsm-certs-vault-baseline`: that checkout's
// system issuing through the same server in the same rounds, to judge a change of the Vault
// path (e.g. its HTTP transport) against the code before it, on the same machine at the same time.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { VaultAdmin, findBaoBinary, startBaoServer } from '@fsm-certs/testing';
import type { BaoServer } from '@fsm-certs/testing';
import { startStack } from '@fsm-certs/stack';
import { postJson } from './http-post.js';
import { BENCH_ENV, benchRunFrom, batchMeter, gatewayRequest, type Target } from './targets.js';

export const VAULT_SCENARIOS = {
  direct: 'vault-direct-p256-server-key',
  fsm: 'fsm-certs-vault-p256-server-key',
  baseline: 'fsm-certs-vault-baseline-p256-server-key',
} as const;

type StartStack = typeof startStack;

function isStackModule(module: unknown): module is { startStack: StartStack } {
  return typeof module === 'object' && module !== null && 'startStack' in module && typeof module.startStack === 'function';
}

/** startStack of another checkout: its apps then run from that checkout's build output. */
export async function baselineStartStack(checkout: string): Promise<StartStack> {
  const entry = path.resolve(checkout, 'tools/stack/dist/index.js');
  if (!existsSync(entry)) throw new Error(`BENCH_VAULT_BASELINE: ${entry} does not exist; run \`npm ci && npx tsc -b tsconfig.json\` in ${checkout} first`);
  const module: unknown = await import(pathToFileURL(entry).href);
  if (!isStackModule(module)) throw new Error(`BENCH_VAULT_BASELINE: ${entry} exports no startStack`);
  return module.startStack;
}

/** `openbao 2.7.2` when a bao/vault binary is there, else undefined (the pair is skipped). */
export function vaultBenchAvailable(): string | undefined {
  const binary = findBaoBinary();
  return binary === undefined ? undefined : `${binary.product} ${binary.version}`;
}

const ROLE = { allow_any_name: true, allow_subdomains: true, allow_bare_domains: true, allow_localhost: true, max_ttl: '24h', key_type: 'ec', key_bits: 256, use_csr_common_name: false, use_csr_sans: false };

/** A dev server set up like deploy-vault.sh (pki mount, role fsm, EC root). */
export async function startBenchVault(options: { readonly tls?: boolean } = {}): Promise<BaoServer> {
  const server = await startBaoServer({ storage: 'dev', tls: options.tls === true });
  const admin = new VaultAdmin(server);
  try {
    await admin.call('POST', 'sys/mounts/pki', { type: 'pki' });
    await admin.call('POST', 'sys/mounts/pki/tune', { max_lease_ttl: '87600h' });
    await admin.call('POST', 'pki/roles/fsm', ROLE);
    await admin.call('POST', 'pki/root/generate/internal', { common_name: 'fsm.root', ttl: '87600h', key_type: 'ec' });
  } catch (error) {
    await server.close();
    throw error;
  }
  return server;
}

/** 16 clients straight at `pki/issue/fsm`, keep-alive, like the load on the gateway. */
export function vaultDirectTarget(server: BaoServer): Target {
  const url = `${server.address}/v1/pki/issue/fsm`;
  const headers = { 'X-Vault-Token': server.rootToken };
  return {
    scenario: VAULT_SCENARIOS.direct,
    pids: { bao: server.pid, client: process.pid },
    async request(seq) {
      const res = await postJson(url, { common_name: `direct-${seq}.bench.cluster.local`, ttl: '24h', format: 'pem' }, headers);
      const data = (res.body as { data?: { private_key?: unknown } }).data;
      if (res.status !== 200 || typeof data?.private_key !== 'string') throw new Error(`vault answered ${res.status}`);
    },
    stop: () => Promise.resolve(),
  };
}

/** The whole system issuing through the same Vault (another checkout's with `start` and `scenario`). */
export async function fsmVaultTarget(
  server: BaoServer,
  options: { readonly env?: NodeJS.ProcessEnv; readonly start?: StartStack; readonly scenario?: string } = {},
): Promise<Target> {
  const env = options.env ?? {};
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bench-fsm-vault-'));
  const stack = await (options.start ?? startStack)({
    dataDir,
    env: { ...BENCH_ENV, CERT_MANAGER: 'vault', VAULT_ADDR: server.address, VAULT_TOKEN: server.rootToken, VAULT_ROLE: 'fsm', ...env },
    runFrom: benchRunFrom(),
  });
  try {
    await stack.waitReady(90_000);
  } catch (error) {
    await stack.stop();
    throw error;
  }
  const pids: Record<string, number | undefined> = { redis: stack.redis?.pid, bao: server.pid, client: process.pid };
  for (const app of stack.apps) pids[app.label] = app.pid;
  return {
    scenario: options.scenario ?? VAULT_SCENARIOS.fsm,
    pids,
    request: gatewayRequest(stack, 'vault'),
    batchSince: batchMeter(stack),
    async stop() {
      await stack.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
