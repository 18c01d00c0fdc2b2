// Live mutual-TLS traffic between workloads fed by agents: each workload runs a Node TLS server
// that requires a client certificate, and a client that connects to the other workload's server,
// both using only the files the workload's agent keeps (re-read on every write, as a reload hook
// would). Handshakes run at a bounded rate until stopped; every failure is kept with its reason.
import tls from 'node:tls';
import { readCertificateFiles } from '@fsm-certs/agent';
import type { TestAgent } from './agent-fixtures.js';

interface Files {
  readonly key: string;
  readonly cert: string;
  readonly ca: string;
}

export interface Workload {
  readonly name: string;
  readonly agent: TestAgent;
  readonly server: tls.Server;
  readonly port: number;
  /** What the client presents and trusts: the agent's files as last reloaded. */
  files: Files;
  /** Reloads seen (server context swaps). */
  reloads: number;
}

async function loadFiles(dir: string): Promise<Files> {
  const files = await readCertificateFiles(dir);
  if (files === undefined) throw new Error(`no certificate files in ${dir}`);
  return files;
}

/** A workload serving mTLS with its agent's files, reloading them after every write of the agent. */
export async function startWorkload(name: string, agent: TestAgent): Promise<Workload> {
  const files = await loadFiles(agent.dir);
  const server = tls.createServer({ ...files, requestCert: true, rejectUnauthorized: true }, (socket) => {
    socket.end(`hello from ${name}`);
  });
  // A client the server refused shows on the client side too; nothing to do here.
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const workload: Workload = { name, agent, server, port, files, reloads: 0 };
  agent.agent.on('written', () => {
    void loadFiles(agent.dir).then((next) => {
      workload.files = next;
      server.setSecureContext({ ...next });
      workload.reloads += 1;
    });
  });
  return workload;
}

export interface HandshakeFailure {
  readonly at: string;
  readonly from: string;
  readonly to: string;
  readonly reason: string;
}

export interface Traffic {
  readonly ok: () => number;
  readonly failures: readonly HandshakeFailure[];
  /** Handshakes that succeeded since `mark` was last called with this label. */
  mark(label: string): void;
  okSince(label: string): number;
  stop(): Promise<void>;
}

/** One mutual-TLS exchange from `from`'s client to `to`'s server. Resolves with an error reason, or undefined. */
function handshake(from: Workload, to: Workload): Promise<string | undefined> {
  return new Promise((resolve) => {
    const { key, cert, ca } = from.files;
    const socket = tls.connect({ host: '127.0.0.1', port: to.port, servername: to.agent.agent.commonName, key, cert, ca });
    let reply = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('timed out after 10 s');
    }, 10_000);
    socket.on('data', (chunk: Buffer) => (reply += chunk.toString()));
    socket.on('end', () => {
      clearTimeout(timer);
      resolve(reply === `hello from ${to.name}` ? undefined : `unexpected reply ${JSON.stringify(reply)}`);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(`${error.code ?? 'ERROR'}: ${error.message}`);
    });
  });
}

/**
 * Handshakes in both directions, `perSecond` in all (one at a time per direction), until stop()
 * or `maxHandshakes`, whichever comes first.
 */
export function startTraffic(workloads: readonly [Workload, Workload], options: { perSecond: number; maxHandshakes: number }): Traffic {
  let ok = 0;
  let started = 0;
  let stopped = false;
  const failures: HandshakeFailure[] = [];
  const marks = new Map<string, number>();
  const gapMs = Math.ceil((1000 * workloads.length) / options.perSecond);
  const loop = async (from: Workload, to: Workload): Promise<void> => {
    while (!stopped && started < options.maxHandshakes) {
      started += 1;
      const began = Date.now();
      const reason = await handshake(from, to);
      if (reason === undefined) ok += 1;
      else failures.push({ at: new Date().toISOString(), from: from.name, to: to.name, reason });
      const wait = gapMs - (Date.now() - began);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  };
  const [a, b] = workloads;
  const loops = Promise.all([loop(a, b), loop(b, a)]);
  return {
    ok: () => ok,
    failures,
    mark: (label) => marks.set(label, ok),
    okSince: (label) => ok - (marks.get(label) ?? ok),
    async stop() {
      stopped = true;
      await loops;
    },
  };
}

export async function stopWorkload(workload: Workload): Promise<void> {
  await new Promise<void>((resolve) => workload.server.close(() => resolve()));
}
