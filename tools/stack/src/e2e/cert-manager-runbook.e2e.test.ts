// docs/cert-manager.md's runbook, followed as written: every shell block between its
// runbook markers runs in bash with the real kubectl, then its start command (`npm start` with
// the variables it sets), then certificates are issued through the gateway and checked with
// openssl against the CA the runbook made. Target: the cluster in KUBECONFIG (the namespace
// CERT_MANAGER_TEST_NAMESPACE, or a fresh one, stands in for fsm-system), else the Kubernetes
// emulator with its simulated cert-manager.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayClient } from '@fsm-certs/client';
import { freePort } from '@fsm-certs/queue';
import { CertManagerEmulator, KubernetesEmulator, eventually, opensslCsr, opensslVerify, opensslX509 } from '@fsm-certs/testing';
import { repoRoot } from '../app-process.js';
import { startNpmStart, type NpmStart } from './npm-start.js';

interface Runbook {
  /** The shell blocks to run, in order. */
  readonly blocks: readonly string[];
  /** The start command: its variable assignments and the command itself. */
  readonly start: { readonly env: Readonly<Record<string, string>>; readonly command: string };
}

/** The fenced shell blocks between <!-- runbook:begin --> and <!-- runbook:end -->, indentation removed. */
function readRunbook(markdown: string): Runbook {
  const section = /<!-- runbook:begin -->([\s\S]*?)<!-- runbook:end -->/.exec(markdown)?.[1];
  if (section === undefined) throw new Error('docs/cert-manager.md has no runbook markers');
  const blocks: string[] = [];
  let start: Runbook['start'] | undefined;
  for (const match of section.matchAll(/^([ \t]*)```sh( runbook-start)?\n([\s\S]*?)^\1```$/gm)) {
    const indent = match[1] ?? '';
    const body = (match[3] ?? '')
      .split('\n')
      .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line))
      .join('\n');
    if (match[2] === undefined) {
      blocks.push(body);
      continue;
    }
    const words = body.trim().split(/\s+/);
    const assignments = words.filter((word) => /^[A-Z_]+=/.test(word));
    start = {
      env: Object.fromEntries(assignments.map((word) => [word.slice(0, word.indexOf('=')), word.slice(word.indexOf('=') + 1)])),
      command: words.slice(assignments.length).join(' '),
    };
  }
  if (start === undefined) throw new Error('the runbook has no start command (a ```sh runbook-start block)');
  return { blocks, start };
}

function run(command: string, args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, output }));
  });
}

const runbook = readRunbook(readFileSync(path.join(repoRoot(), 'docs', 'cert-manager.md'), 'utf8'));
const realCluster = (process.env['KUBECONFIG'] ?? '') !== '';

describe(`the cert-manager runbook, followed as written (target: ${realCluster ? 'the KUBECONFIG cluster' : 'Kubernetes emulator + simulated cert-manager'})`, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fsm-runbook-'));
  const given = process.env['CERT_MANAGER_TEST_NAMESPACE'];
  const namespace = realCluster ? (given ?? `fsm-certs-runbook-${Math.random().toString(36).slice(2, 8)}`) : 'fsm-system';
  let kube: KubernetesEmulator | undefined;
  let certManager: CertManagerEmulator | undefined;
  let kubeconfig: string;
  let stack: NpmStart | undefined;
  let client: GatewayClient;
  const shellEnv = (): NodeJS.ProcessEnv => ({ PATH: process.env['PATH'] ?? '', HOME: dir, KUBECONFIG: kubeconfig });
  const kubectl = (args: readonly string[]): Promise<{ status: number | null; output: string }> => run('kubectl', args, { cwd: dir, env: shellEnv() });

  beforeAll(async () => {
    if (realCluster) {
      kubeconfig = process.env['KUBECONFIG'] ?? '';
      if (given === undefined) expect((await kubectl(['create', 'namespace', namespace])).status).toBe(0);
    } else {
      // kubectl sends no bearer token over plain http, so this emulator runs without one.
      kube = await KubernetesEmulator.start({ token: null });
      certManager = CertManagerEmulator.install(kube);
      kubeconfig = path.join(dir, 'kubeconfig');
      writeFileSync(kubeconfig, kube.kubeconfigYaml(), { mode: 0o600 });
    }
    for (const block of runbook.blocks) {
      const script = block.replaceAll('fsm-system', namespace);
      const result = await run('bash', ['-euo', 'pipefail', '-c', script], { cwd: dir, env: shellEnv() });
      expect(result.status, `runbook step failed:\n${script}\n${result.output}`).toBe(0);
    }
    expect(runbook.start.command).toBe('npm start');
    stack = startNpmStart({
      ...runbook.start.env,
      KUBECONFIG: kubeconfig,
      FSM_NAMESPACE: namespace,
      GATEWAY_PORT: String(await freePort()),
      // What the operator's shell does not set: the test machine's own choices must not leak in.
      FSM_SECRET_STORE: '',
      FSM_KEY_ENCRYPTION_KEY: '',
    });
    await stack.waitForLine(/^fsm-certs is ready\.$/);
    const endpoint = stack.endpoint();
    client = new GatewayClient({ baseUrl: endpoint.gatewayUrl, token: endpoint.adminToken });
  }, 240_000);

  afterAll(async () => {
    stack?.destroy();
    if (realCluster && given === undefined) await kubectl(['delete', 'namespace', namespace, '--wait=false']);
    else if (realCluster) {
      await kubectl(['delete', '-n', namespace, 'issuer', 'fsm-ca', '--ignore-not-found']);
      await kubectl(['delete', '-n', namespace, 'secret', 'fsm-ca-key-pair', 'fsm-ca-bundle', 'fsm-certs-kek', '--ignore-not-found']);
    }
    certManager?.stop();
    await kube?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('issues a server-key certificate that chains to the CA the runbook made, through cert-manager', async () => {
    const caPem = readFileSync(path.join(dir, 'ca.crt'), 'utf8');
    const issued = await client.issue({ commonName: 'bookstore-v1.bookstore.cluster.local' });
    expect(issued.privateKey).toBeDefined();
    expect(opensslVerify(issued.certificate, caPem, { purpose: 'sslserver' }).output).toMatch(/: OK/);
  });

  it('issues for the usual mTLS CSR (digitalSignature; serverAuth, clientAuth) with exactly those usages', async () => {
    const caPem = readFileSync(path.join(dir, 'ca.crt'), 'utf8');
    const csr = opensslCsr('bookbuyer.bookbuyer.cluster.local', ['keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth,clientAuth']);
    const issued = await client.issue({ commonName: 'bookbuyer.bookbuyer.cluster.local', csr });
    expect(issued.privateKey).toBeUndefined();
    expect(opensslVerify(issued.certificate, caPem, { purpose: 'sslclient' }).output).toMatch(/: OK/);
    expect(opensslX509(issued.certificate, ['-ext', 'keyUsage']).trim().split('\n').map((line) => line.trim())).toEqual(['X509v3 Key Usage: critical', 'Digital Signature']);
  });

  it('leaves no CertificateRequest behind', async () => {
    await eventually(async () => {
      const listed = await kubectl(['get', 'certificaterequests', '-n', namespace, '-o', 'name']);
      return listed.status === 0 && listed.output.trim() === '' ? true : undefined;
    }, 30_000, 'no CertificateRequest left');
  });
});
