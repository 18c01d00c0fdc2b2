// Which Vault a Vault suite runs against, in the order the design fixes: a real endpoint from the
// environment (VAULT_ADDR + VAULT_TOKEN) → a container runtime (Testcontainers) → a local
// `bao`/`vault` binary (OpenBao from tools/test-tools/install-openbao.sh) → the emulator, which
// only stands in when no real server can run. FSM_TEST_VAULT=env|container|bao|emulator forces
// one (CI sets `bao`, so a missing OpenBao fails the run instead of quietly emulating).
// Every suite prints its target and records it for .ci/run's summary.
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRootCa, issueLeaf } from '@fsm-certs/x509';
import { detectContainerRuntime, startVaultContainer, VAULT_IMAGE } from './container.js';
import { VaultEmulator } from './emulator.js';
import { baoCall, findBaoBinary, startBaoServer } from './openbao.js';

export type VaultTargetKind = 'env' | 'container' | 'bao' | 'emulator';

export interface VaultTargetOptions {
  /** https with a CA the target hands out (caPem / caFile). */
  readonly tls?: boolean;
  /** `disk`: the Vault must keep its data across faults.stop()/start() (a real server uses raft storage). */
  readonly storage?: 'dev' | 'disk';
  /** The suite needs to own the server (stop, seal): a Vault from the environment is not used. */
  readonly needsFaults?: boolean;
  /** Root token for targets that let us choose it (dev servers, emulator). */
  readonly rootToken?: string;
  /** Port on 127.0.0.1 for targets we start; default a free one. */
  readonly port?: number;
  readonly env?: NodeJS.ProcessEnv;
  /** Printed as `[<suite>] target: …`; default `vault`. */
  readonly suite?: string;
  /** Record the target for .ci/run's summary (tests); `npm run dev:vault` does not. Default true. */
  readonly record?: boolean;
  /** Where to print the target line; default console.log. */
  readonly print?: (line: string) => void;
}

/** What a suite may do to a Vault it owns. */
export interface VaultFaults {
  /** Connections are refused until start(); state survives. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Vault answers 503 "sealed" until unseal(). undefined where the target cannot seal. */
  readonly seal: (() => Promise<void>) | undefined;
  readonly unseal: (() => Promise<void>) | undefined;
}

export interface VaultTarget {
  readonly kind: VaultTargetKind;
  /** e.g. `openbao 2.7.2 (bao server -dev on 127.0.0.1:40123)`. */
  readonly description: string;
  readonly address: string;
  readonly rootToken: string;
  readonly caPem?: string;
  readonly caFile?: string;
  /** undefined for a Vault we do not own (from the environment). */
  readonly faults?: VaultFaults;
  /** The emulator itself, for the few tests only it can serve (each says why). */
  readonly emulator?: VaultEmulator;
  close(): Promise<void>;
}

const KINDS: readonly VaultTargetKind[] = ['env', 'container', 'bao', 'emulator'];

function forcedKind(env: NodeJS.ProcessEnv): VaultTargetKind | undefined {
  const value = env.FSM_TEST_VAULT;
  if (value === undefined || value === '' || value === 'auto') return undefined;
  const kind = KINDS.find((k) => k === value);
  if (kind === undefined) throw new Error(`FSM_TEST_VAULT=${value}: expected one of auto, ${KINDS.join(', ')}`);
  return kind;
}

function resultsLog(): string | undefined {
  let dir = process.cwd();
  for (let i = 0; i < 8; i++) {
    if (existsSync(path.join(dir, 'vitest.shared.ts'))) return path.join(dir, '.vitest-results', 'vault-targets.log');
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
  return undefined;
}

function announce(target: VaultTarget, options: VaultTargetOptions): VaultTarget {
  (options.print ?? console.log)(`[${options.suite ?? 'vault'}] target: ${target.description}`);
  const file = options.record === false ? undefined : resultsLog();
  if (file !== undefined) {
    mkdirSync(path.dirname(file), { recursive: true });
    // Without the port, so .ci/run can count suites per kind of target.
    appendFileSync(file, `${target.description.replace(/ on 127\.0\.0\.1:\d+/, '')}\n`);
  }
  return target;
}

async function envTarget(env: NodeJS.ProcessEnv): Promise<VaultTarget | undefined> {
  const address = env.VAULT_ADDR?.replace(/\/+$/, '');
  const token = env.VAULT_TOKEN;
  if (address === undefined || address === '' || token === undefined || token === '') return undefined;
  const caFile = env.VAULT_CACERT;
  const caPem = caFile !== undefined && caFile !== '' ? readFileSync(caFile, 'utf8') : undefined;
  const health = await baoCall(address, caPem, 'GET', 'sys/health');
  const version = typeof health.body === 'object' && health.body !== null && 'version' in health.body ? String(health.body.version) : 'unknown version';
  return {
    kind: 'env',
    description: `vault ${version} from the environment (${address})`,
    address,
    rootToken: token,
    ...(caPem === undefined ? {} : { caPem, caFile }),
    close: () => Promise.resolve(),
  };
}

async function containerTarget(options: VaultTargetOptions): Promise<VaultTarget> {
  const container = await startVaultContainer({ ...(options.rootToken === undefined ? {} : { rootToken: options.rootToken }), ...(options.port === undefined ? {} : { hostPort: options.port }) });
  return {
    kind: 'container',
    description: `${VAULT_IMAGE} (Testcontainers, dev mode, ${container.address})`,
    address: container.address,
    rootToken: container.rootToken,
    // docker pause keeps the in-memory state: the only outage a dev-mode container survives.
    faults: { stop: () => container.pause(), start: () => container.unpause(), seal: undefined, unseal: undefined },
    close: () => container.stop(),
  };
}

async function baoTarget(options: VaultTargetOptions): Promise<VaultTarget> {
  const server = await startBaoServer({
    storage: options.storage ?? 'dev',
    tls: options.tls === true,
    ...(options.rootToken === undefined ? {} : { rootToken: options.rootToken }),
    ...(options.port === undefined ? {} : { port: options.port }),
  });
  const caPem = server.caFile === undefined ? undefined : readFileSync(server.caFile, 'utf8');
  return {
    kind: 'bao',
    description: server.description,
    address: server.address,
    rootToken: server.rootToken,
    ...(caPem === undefined ? {} : { caPem, caFile: server.caFile }),
    faults: { stop: () => server.stop(), start: () => server.start(), seal: () => server.seal(), unseal: () => server.unseal() },
    close: () => server.close(),
  };
}

async function emulatorTarget(options: VaultTargetOptions, why: string): Promise<VaultTarget> {
  let tls: { certificatePem: string; privateKeyPem: string } | undefined;
  let caPem: string | undefined;
  let caFile: string | undefined;
  if (options.tls === true) {
    const ca = createRootCa({ commonName: 'fsm-certs test Vault emulator https CA' });
    const leaf = issueLeaf(ca.issuer, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], validityMs: 24 * 3600_000 });
    tls = { certificatePem: leaf.certificatePem, privateKeyPem: leaf.privateKeyPem ?? '' };
    caPem = ca.certificatePem;
    // Like `bao server -dev-tls`: the CA is also a file, for VAULT_CACERT.
    caFile = path.join(mkdtempSync(path.join(tmpdir(), 'fsm-vault-emulator-')), 'vault-ca.pem');
    writeFileSync(caFile, caPem);
  }
  const emulator = await VaultEmulator.start({
    ...(options.rootToken === undefined ? {} : { rootToken: options.rootToken }),
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(tls === undefined ? {} : { tls }),
  });
  return {
    kind: 'emulator',
    description: `the Vault emulator (test fixture; ${why}) on ${emulator.address.replace(/^https?:\/\//, '')}`,
    address: emulator.address,
    rootToken: emulator.rootToken,
    ...(caPem === undefined ? {} : { caPem }),
    ...(caFile === undefined ? {} : { caFile }),
    emulator,
    faults: { stop: () => emulator.stop(), start: () => emulator.start(), seal: () => Promise.resolve(emulator.seal()), unseal: () => Promise.resolve(emulator.unseal()) },
    async close() {
      await emulator.close();
      if (caFile !== undefined) rmSync(path.dirname(caFile), { recursive: true, force: true });
    },
  };
}

/** Start (or connect to) the Vault a suite runs against, print it, and record it. */
export async function startVaultTarget(options: VaultTargetOptions = {}): Promise<VaultTarget> {
  const env = options.env ?? process.env;
  const forced = forcedKind(env);
  const needsOwnServer = options.needsFaults === true;
  // A dev-mode container has neither https nor disk storage nor a seal we can undo.
  const containerFits = options.tls !== true && options.storage !== 'disk';

  if (forced === 'env' || (forced === undefined && !needsOwnServer)) {
    const target = await envTarget(env);
    if (target !== undefined) return announce(target, options);
    if (forced === 'env') throw new Error('FSM_TEST_VAULT=env but VAULT_ADDR / VAULT_TOKEN are not set.');
  }
  if (forced === 'container' || (forced === undefined && containerFits && (await detectContainerRuntime()))) {
    return announce(await containerTarget(options), options);
  }
  if (forced === 'bao' || forced === undefined) {
    if (findBaoBinary(env) !== undefined) return announce(await baoTarget(options), options);
    if (forced === 'bao') throw new Error('FSM_TEST_VAULT=bao but no bao/vault binary was found: run tools/test-tools/install-openbao.sh (or set FSM_BAO_BIN).');
  }
  const why = forced === 'emulator' ? 'FSM_TEST_VAULT=emulator' : 'no Vault server available: run tools/test-tools/install-openbao.sh';
  return announce(await emulatorTarget(options, why), options);
}
