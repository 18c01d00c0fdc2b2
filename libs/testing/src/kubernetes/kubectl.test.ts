// kubectl, a client nobody here wrote, against the emulator: discovery, the OpenAPI index that
// lets it validate on the server, Secrets it sends as protobuf, and a custom resource it applies.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertManagerEmulator } from './cert-manager/cert-manager-emulator.js';
import { KubernetesEmulator } from './emulator.js';

let kube: KubernetesEmulator;
let certManager: CertManagerEmulator;
let dir: string;
let kubeconfig: string;

/** kubectl in a child process; asynchronous, since the emulator answering it runs in this one. */
function kubectl(args: readonly string[], input?: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('kubectl', args, { env: { PATH: process.env['PATH'] ?? '', HOME: dir, KUBECONFIG: kubeconfig }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', (error) => reject(new Error(`kubectl could not run (${error.message}); it comes with the machine image (Debian package kubectl)`)));
    child.once('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

beforeAll(async () => {
  // kubectl sends no bearer token over plain http, so this emulator runs without one.
  kube = await KubernetesEmulator.start({ token: null });
  certManager = CertManagerEmulator.install(kube);
  dir = mkdtempSync(path.join(tmpdir(), 'fsm-kubectl-'));
  kubeconfig = path.join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, kube.kubeconfigYaml(), { mode: 0o600 });
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', path.join(dir, 'ca.key'), '-out', path.join(dir, 'ca.crt'), '-subj', '/CN=kubectl test CA', '-days', '2'], { stdio: 'pipe' });
});
afterAll(async () => {
  certManager.stop();
  await kube.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('kubectl against the Kubernetes emulator', () => {
  it('creates a TLS Secret (sent as protobuf) whose data reads back as the files', async () => {
    const created = await kubectl(['create', 'secret', 'tls', '-n', 'fsm-system', 'key-pair', `--cert=${path.join(dir, 'ca.crt')}`, `--key=${path.join(dir, 'ca.key')}`]);
    expect(created, created.stderr).toMatchObject({ status: 0, stdout: 'secret/key-pair created\n' });
    const stored = kube.store.get(kube.secrets, 'fsm-system', 'key-pair');
    expect(stored.type).toBe('kubernetes.io/tls');
    const data = stored.data as Record<string, string>;
    expect(Buffer.from(data['tls.crt'] ?? '', 'base64').toString()).toContain('BEGIN CERTIFICATE');
    expect(Buffer.from(data['tls.key'] ?? '', 'base64').toString()).toContain('PRIVATE KEY');
  });

  it('creates a generic Secret from a literal and from a file', async () => {
    expect((await kubectl(['create', 'secret', 'generic', '-n', 'fsm-system', 'literal', '--from-literal=kek=c2VjcmV0'])).status).toBe(0);
    expect((await kubectl(['create', 'secret', '-n', 'fsm-system', 'generic', 'bundle', '--from-file', path.join(dir, 'ca.crt')])).status).toBe(0);
    const literal = kube.store.get(kube.secrets, 'fsm-system', 'literal').data as Record<string, string>;
    expect(Buffer.from(literal['kek'] ?? '', 'base64').toString()).toBe('c2VjcmV0');
    expect(Object.keys(kube.store.get(kube.secrets, 'fsm-system', 'bundle').data as Record<string, string>)).toEqual(['ca.crt']);
  });

  it('applies an Issuer from stdin (server-side field validation) and lists it', async () => {
    const applied = await kubectl(['apply', '-f', '-'], 'apiVersion: cert-manager.io/v1\nkind: Issuer\nmetadata: { name: fsm-ca, namespace: fsm-system }\nspec: { ca: { secretName: key-pair } }\n');
    expect(applied, applied.stderr).toMatchObject({ status: 0, stdout: 'issuer.cert-manager.io/fsm-ca created\n' });
    expect((await kubectl(['get', 'issuers', '-n', 'fsm-system', '-o', 'name'])).stdout).toBe('issuer.cert-manager.io/fsm-ca\n');
  });

  it('reports what the emulator refuses, as it reports an API server', async () => {
    const refused = await kubectl(['apply', '-f', '-'], 'apiVersion: cert-manager.io/v1\nkind: Issuer\nmetadata: { name: broken, namespace: fsm-system }\nspec: { ca: {} }\n');
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('spec.ca.secretName');
  });
});
