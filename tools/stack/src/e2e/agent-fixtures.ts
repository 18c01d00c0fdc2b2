// Helpers for the agent end-to-end suites: agents pointed at a running stack (in temp dirs,
// with a fast backoff so reconnections are quick), what their files hold, and mutual TLS
// between two workloads using nothing but those files.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { jsonLineLogger, readCertificateFiles, startAgent, type AgentHandle, type AgentOptions } from '@fsm-certs/agent';
import { inspectCertificate } from '@fsm-certs/x509';

/** A token that may issue and read names under bookstore.cluster.local, as a workload's would. */
export const WORKLOAD_TOKEN = 'bookstore-workload-token-0123456789';
export const WORKLOAD_TOKENS_ENV = JSON.stringify([{ name: 'bookstore', token: WORKLOAD_TOKEN, scopes: ['issue', 'read'], names: ['*.bookstore.cluster.local'] }]);

export interface TestAgent {
  readonly agent: AgentHandle;
  readonly dir: string;
  readonly tokenFile: string;
  readonly logs: string[];
}

export class AgentFixtures {
  private readonly agents: AgentHandle[] = [];
  private readonly dirs: string[] = [];

  constructor(private readonly gatewayUrl: string) {}

  tempDir(prefix = 'fsm-agent-e2e-'): string {
    const dir = mkdtempSync(path.join(tmpdir(), prefix));
    this.dirs.push(dir);
    return dir;
  }

  /** An agent with the workload token in a file, a health server on a free port, fast retries. */
  async start(options: Partial<AgentOptions> & { commonName: string }): Promise<TestAgent> {
    const home = this.tempDir();
    const tokenFile = path.join(home, 'token');
    writeFileSync(tokenFile, `${WORKLOAD_TOKEN}\n`);
    const logs: string[] = [];
    const verbose = process.env['FSM_E2E_VERBOSE'] === '1';
    const dir = path.join(home, 'certs');
    const agent = await startAgent({
      gatewayUrl: this.gatewayUrl,
      tokenFile,
      dir,
      health: { host: '127.0.0.1', port: 0 },
      backoff: { initialMs: 100, maxMs: 1_000 },
      logger: jsonLineLogger((line) => {
        logs.push(line);
        if (verbose) process.stdout.write(`[agent ${options.commonName}] ${line}`);
      }, { level: 'debug' }),
      ...options,
    });
    this.agents.push(agent);
    return { agent, dir, tokenFile, logs };
  }

  async close(): Promise<void> {
    await Promise.all(this.agents.map((agent) => agent.stop()));
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
  }
}

export interface OnDisk {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
  readonly serialNumber: string;
}

/** The agent's current files (one snapshot), or undefined before the first write. */
export async function onDisk(dir: string): Promise<OnDisk | undefined> {
  const files = await readCertificateFiles(dir);
  if (files === undefined) return undefined;
  return { ...files, serialNumber: inspectCertificate(files.cert).serialNumber };
}

/** `openssl verify -CAfile DIR/ca.pem DIR/cert.pem`, on the files as the agent left them. */
export function opensslVerifyFiles(dir: string): { ok: boolean; output: string } {
  const result = spawnSync('openssl', ['verify', '-CAfile', path.join(dir, 'ca.pem'), path.join(dir, 'cert.pem')], { encoding: 'utf8' });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}`.trim() };
}

function commonNameOf(cert: tls.PeerCertificate): string {
  const cn: string | string[] | undefined = cert.subject?.CN;
  return Array.isArray(cn) ? cn.join(',') : (cn ?? '');
}

/**
 * One mutual-TLS exchange: a server with the server agent's files requiring a client
 * certificate, a client with the client agent's files verifying the server's name. Resolves
 * with what each side saw of the other.
 */
export async function mutualTls(server: OnDisk, client: OnDisk, serverName: string): Promise<{ clientSaw: string; serverSaw: string; reply: string }> {
  let serverSaw = '';
  const tlsServer = tls.createServer({ key: server.key, cert: server.cert, ca: server.ca, requestCert: true, rejectUnauthorized: true }, (socket) => {
    serverSaw = commonNameOf(socket.getPeerCertificate());
    socket.end(`hello ${serverSaw}`);
  });
  await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
  const address = tlsServer.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  try {
    return await new Promise((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, servername: serverName, key: client.key, cert: client.cert, ca: client.ca }, () => {
        const clientSaw = commonNameOf(socket.getPeerCertificate());
        let reply = '';
        socket.on('data', (chunk: Buffer) => (reply += chunk.toString()));
        socket.on('end', () => resolve({ clientSaw, serverSaw, reply }));
      });
      socket.once('error', reject);
    });
  } finally {
    await new Promise<void>((resolve) => tlsServer.close(() => resolve()));
  }
}
