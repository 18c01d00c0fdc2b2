// A real OpenBao (or Vault) server on 127.0.0.1, launched from the `bao` binary that
// tools/test-tools/install-openbao.sh puts in .tools/bin (or one on PATH), and torn down by pid.
// Two storage modes: `dev` (`bao server -dev`, in memory, unsealed, optionally `-dev-tls`) and
// `disk` (a real config with integrated raft storage — OpenBao 2 has no `file` backend —
// initialised and unsealed here) whose data survives a stop and restart on the same port: what
// outage and seal tests need.
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRootCa, issueLeaf } from '@fsm-certs/x509';

export interface BaoBinary {
  readonly path: string;
  /** `openbao` for bao, `vault` for a HashiCorp vault binary. */
  readonly product: 'openbao' | 'vault';
  /** e.g. `2.7.2`. */
  readonly version: string;
}

export interface BaoServerOptions {
  /** `dev`: `bao server -dev` in memory. `disk`: integrated (raft) storage in a temp dir, which survives restart(). Default `dev`. */
  readonly storage?: 'dev' | 'disk';
  /** Serve https (`-dev-tls`, or a throwaway CA for file storage); the CA is in caPem/caFile. */
  readonly tls?: boolean;
  /** Root token for dev mode (file mode gets one from `sys/init`). Default: random. */
  readonly rootToken?: string;
  /** Port on 127.0.0.1; default a free one. */
  readonly port?: number;
  readonly binary?: BaoBinary;
  /** How long to wait for the server to answer; default 30 s. */
  readonly startTimeoutMs?: number;
}

export interface BaoServer {
  readonly address: string;
  readonly rootToken: string;
  readonly binary: BaoBinary;
  readonly storage: 'dev' | 'disk';
  readonly tls: boolean;
  readonly caPem: string | undefined;
  readonly caFile: string | undefined;
  /** `openbao 2.7.2 (bao server -dev on 127.0.0.1:PORT)`. */
  readonly description: string;
  readonly running: boolean;
  /** The server process's pid while running. */
  readonly pid: number | undefined;
  /** Stop the process (SIGTERM, then SIGKILL): connections are refused until start(). */
  stop(): Promise<void>;
  /** Start again on the same port; file storage keeps its data and is unsealed here. */
  start(): Promise<void>;
  /** `sys/seal`: Vault answers 503 until unseal(). */
  seal(): Promise<void>;
  unseal(): Promise<void>;
  /** Stop and remove the data directory. */
  close(): Promise<void>;
}

const VERSION_LINE = /^(OpenBao|Vault) v(\d+\.\d+\.\d+)/;

function repoRoots(): string[] {
  const roots: string[] = [];
  for (const start of [process.cwd(), path.dirname(fileURLToPath(import.meta.url))]) {
    let dir = start;
    for (let i = 0; i < 8; i++) {
      if (existsSync(path.join(dir, '.tools'))) roots.push(dir);
      const up = path.dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  return roots;
}

function probeBinary(file: string): BaoBinary | undefined {
  try {
    const out = execFileSync(file, ['version'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] });
    const match = VERSION_LINE.exec(out.trim());
    if (match?.[1] === undefined || match[2] === undefined) return undefined;
    return { path: file, product: match[1] === 'OpenBao' ? 'openbao' : 'vault', version: match[2] };
  } catch {
    return undefined;
  }
}

/**
 * The bao/vault binary the tests use: FSM_BAO_BIN, else .tools/bin/bao of this checkout (from
 * tools/test-tools/install-openbao.sh), else `bao` or `vault` on PATH. undefined when none runs.
 */
export function findBaoBinary(env: NodeJS.ProcessEnv = process.env): BaoBinary | undefined {
  const candidates: string[] = [];
  if (env.FSM_BAO_BIN !== undefined && env.FSM_BAO_BIN !== '') candidates.push(env.FSM_BAO_BIN);
  for (const root of repoRoots()) candidates.push(path.join(root, '.tools', 'bin', 'bao'));
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    candidates.push(path.join(dir, 'bao'), path.join(dir, 'vault'));
  }
  for (const file of candidates) {
    if (!existsSync(file)) continue;
    const found = probeBinary(file);
    if (found !== undefined) return found;
  }
  return undefined;
}

export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

interface RawAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** One HTTP call to the server, trusting its CA; network errors resolve to status 0. */
export function baoCall(address: string, caPem: string | undefined, method: string, apiPath: string, token?: string, body?: unknown, timeoutMs = 5_000): Promise<RawAnswer> {
  const url = new URL(`/v1/${apiPath}`, address);
  // Vault takes GET ?list=true for LIST; the emulator must (Node's HTTP parser has no LIST verb).
  if (method === 'LIST') url.searchParams.set('list', 'true');
  const verb = method === 'LIST' ? 'GET' : method;
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token !== undefined) headers['X-Vault-Token'] = token;
  if (payload !== undefined) headers['content-type'] = 'application/json';
  const requester = url.protocol === 'https:' ? https.request : http.request;
  return new Promise((resolve) => {
    const req = requester(url, { method: verb, headers, timeout: timeoutMs, ...(caPem === undefined ? {} : { ca: caPem }), agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = text === '' ? undefined : JSON.parse(text);
        } catch {
          // Not JSON (e.g. pki/ca/pem): keep the text.
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, body: undefined }));
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

function field(body: unknown, ...keys: string[]): unknown {
  let value: unknown = body;
  for (const key of keys) {
    if (typeof value !== 'object' || value === null || !(key in value)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

const randomToken = (): string => `fsm-test-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;

// Every server this process started, so an aborted test run never leaves one behind.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

class LaunchedBao implements BaoServer {
  private child: ChildProcess | undefined;
  private output = '';
  private unsealKey: string | undefined;
  private token: string;
  readonly caPem: string | undefined;
  readonly caFile: string | undefined;

  constructor(
    readonly binary: BaoBinary,
    readonly storage: 'dev' | 'disk',
    readonly tls: boolean,
    private readonly port: number,
    private readonly clusterPort: number,
    private readonly dir: string,
    rootToken: string,
    private readonly startTimeoutMs: number,
  ) {
    this.token = rootToken;
    if (tls && storage === 'disk') {
      // Disk storage has no -dev-tls: serve a certificate from a throwaway CA, like an operator would.
      const ca = createRootCa({ commonName: 'fsm-certs test OpenBao https CA' });
      const leaf = issueLeaf(ca.issuer, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], validityMs: 24 * 3600_000 });
      writeFileSync(path.join(dir, 'tls.crt'), leaf.certificatePem);
      writeFileSync(path.join(dir, 'tls.key'), leaf.privateKeyPem ?? '', { mode: 0o600 });
      this.caFile = path.join(dir, 'vault-ca.pem');
      writeFileSync(this.caFile, ca.certificatePem);
      this.caPem = ca.certificatePem;
    } else if (tls) {
      this.caFile = path.join(dir, 'vault-ca.pem');
      this.caPem = undefined;
    } else {
      this.caFile = undefined;
      this.caPem = undefined;
    }
  }

  get address(): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  get rootToken(): string {
    return this.token;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get description(): string {
    const how = this.storage === 'dev' ? `${this.binary.product === 'openbao' ? 'bao' : 'vault'} server -dev${this.tls ? ' -dev-tls' : ''}` : `${this.binary.product === 'openbao' ? 'bao' : 'vault'} server, raft storage${this.tls ? ', tls' : ''}`;
    return `${this.binary.product} ${this.binary.version} (${how} on 127.0.0.1:${this.port})`;
  }

  private trustedCa(): string | undefined {
    if (!this.tls) return undefined;
    if (this.caPem !== undefined) return this.caPem;
    return this.caFile !== undefined && existsSync(this.caFile) ? readFileSync(this.caFile, 'utf8') : undefined;
  }

  call(method: string, apiPath: string, body?: unknown, token: string | undefined = this.token, timeoutMs?: number): Promise<RawAnswer> {
    return baoCall(this.address, this.trustedCa(), method, apiPath, token, body, timeoutMs);
  }

  private args(): string[] {
    if (this.storage === 'dev') {
      return [
        'server', '-dev', `-dev-root-token-id=${this.token}`, `-dev-listen-address=127.0.0.1:${this.port}`, '-dev-no-store-token',
        ...(this.tls ? ['-dev-tls', `-dev-tls-cert-dir=${this.dir}`] : []),
      ];
    }
    const listener = this.tls
      ? `tls_cert_file = "${path.join(this.dir, 'tls.crt')}"\n  tls_key_file = "${path.join(this.dir, 'tls.key')}"`
      : 'tls_disable = true';
    const data = path.join(this.dir, 'data');
    mkdirSync(data, { recursive: true });
    const config = [
      `storage "raft" {\n  path = "${data}"\n  node_id = "fsm-test"\n  performance_multiplier = 1\n}`,
      `listener "tcp" {\n  address = "127.0.0.1:${this.port}"\n  cluster_address = "127.0.0.1:${this.clusterPort}"\n  ${listener}\n}`,
      `api_addr = "${this.address}"`,
      `cluster_addr = "https://127.0.0.1:${this.clusterPort}"`,
      // HashiCorp Vault wants mlock disabled to run unprivileged; OpenBao dropped the setting.
      ...(this.binary.product === 'vault' ? ['disable_mlock = true'] : []),
      'log_level = "warn"',
    ].join('\n');
    const file = path.join(this.dir, 'server.hcl');
    writeFileSync(file, config);
    return ['server', `-config=${file}`];
  }

  async start(): Promise<void> {
    if (this.child !== undefined) return;
    const child = spawn(this.binary.path, this.args(), {
      cwd: this.dir,
      // The dev server's own token helper and VAULT_* of the caller must not leak in.
      env: { PATH: process.env.PATH ?? '', HOME: this.dir, BAO_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    live.add(child);
    const collect = (chunk: Buffer): void => {
      if (this.output.length < 64_000) this.output += chunk.toString('utf8');
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.once('exit', () => {
      live.delete(child);
      if (this.child === child) this.child = undefined;
    });
    await this.waitAnswering();
    if (this.storage === 'disk') await this.initAndUnseal();
    else await this.readDevUnsealKey();
    await this.waitHealthy();
  }

  private async waitAnswering(): Promise<void> {
    const deadline = Date.now() + this.startTimeoutMs;
    for (;;) {
      if (this.child === undefined) throw new Error(`${this.description} exited during start:\n${this.output.slice(-2000)}`);
      if (!this.tls || this.trustedCa() !== undefined) {
        const health = await this.call('GET', 'sys/health', undefined, undefined);
        if (health.status !== 0) return;
      }
      if (Date.now() > deadline) throw new Error(`${this.description} did not answer within ${this.startTimeoutMs} ms:\n${this.output.slice(-2000)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** The dev server prints its unseal key in its banner, which may follow its first answers. */
  private async readDevUnsealKey(): Promise<void> {
    const deadline = Date.now() + this.startTimeoutMs;
    while (this.unsealKey === undefined) {
      this.unsealKey = /Unseal Key:\s*(\S+)/.exec(this.output)?.[1];
      if (this.unsealKey !== undefined) return;
      if (Date.now() > deadline) throw new Error(`${this.description} printed no unseal key:\n${this.output.slice(-2000)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  private async waitHealthy(): Promise<void> {
    const deadline = Date.now() + this.startTimeoutMs;
    for (;;) {
      const health = await this.call('GET', 'sys/health', undefined, undefined);
      if (health.status === 200) return;
      if (Date.now() > deadline) throw new Error(`${this.description} did not become healthy (last status ${health.status}):\n${this.output.slice(-2000)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  private async initAndUnseal(): Promise<void> {
    const status = await this.call('GET', 'sys/init', undefined, undefined);
    if (field(status.body, 'initialized') !== true) {
      const init = await this.call('PUT', 'sys/init', { secret_shares: 1, secret_threshold: 1 }, undefined, this.startTimeoutMs);
      const key = field(init.body, 'keys_base64');
      const root = field(init.body, 'root_token');
      if (!Array.isArray(key) || typeof key[0] !== 'string' || typeof root !== 'string') throw new Error(`sys/init answered ${init.status}: ${JSON.stringify(init.body)}`);
      this.unsealKey = key[0];
      this.token = root;
    }
    await this.unseal();
  }

  async seal(): Promise<void> {
    const answer = await this.call('PUT', 'sys/seal');
    if (answer.status !== 204 && answer.status !== 200) throw new Error(`sys/seal answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  }

  async unseal(): Promise<void> {
    if (this.unsealKey === undefined) throw new Error(`${this.description}: no unseal key known`);
    const answer = await this.call('PUT', 'sys/unseal', { key: this.unsealKey }, undefined, this.startTimeoutMs);
    if (answer.status !== 200 || field(answer.body, 'sealed') !== false) throw new Error(`sys/unseal answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    await this.waitHealthy();
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    this.child = undefined;
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Launch a bao/vault server on 127.0.0.1; throws when no binary is found (see findBaoBinary). */
export async function startBaoServer(options: BaoServerOptions = {}): Promise<BaoServer> {
  const binary = options.binary ?? findBaoBinary();
  if (binary === undefined) throw new Error('No bao/vault binary found: run tools/test-tools/install-openbao.sh (or set FSM_BAO_BIN).');
  const storage = options.storage ?? 'dev';
  // A free port can be taken between our probe and the server's bind: try a few.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = options.port ?? (await freeLoopbackPort());
    const dir = mkdtempSync(path.join(tmpdir(), 'fsm-openbao-'));
    const clusterPort = storage === 'disk' ? await freeLoopbackPort() : 0;
    const server = new LaunchedBao(binary, storage, options.tls === true, port, clusterPort, dir, options.rootToken ?? randomToken(), options.startTimeoutMs ?? 30_000);
    try {
      await server.start();
      return server;
    } catch (error) {
      lastError = error;
      await server.close();
      if (options.port !== undefined) break;
    }
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}
