import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRootCa, fingerprintSha256 } from '@fsm-certs/x509';
import { isProviderError } from '../errors.js';
import { kubernetesTarget, uniqueName } from '../kubernetes-target.test-helpers.js';
import type { KubernetesTarget } from '../kubernetes-target.test-helpers.js';
import { opensslText } from '@fsm-certs/testing';
import { FileSecretStore } from '../secret-store/file-store.js';
import { KubernetesSecretStore } from '../secret-store/kubernetes-store.js';
import type { SecretRef, SecretStore } from '../secret-store/types.js';
import { TresorProvider } from './tresor-provider.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'fsm-tresor-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

let target: KubernetesTarget;
beforeAll(async () => {
  target = await kubernetesTarget();
  console.info(`[tresor] Kubernetes target: ${target.label}`);
});
afterAll(() => target.close());

async function startError(store: SecretStore, ref: SecretRef): Promise<Error> {
  try {
    await TresorProvider.start({ store, namespace: ref.namespace, secretName: ref.name });
  } catch (error) {
    if (error instanceof Error) return error;
  }
  throw new Error('expected TresorProvider.start to fail');
}

describe('TresorProvider.start', () => {
  it('generates the root into an absent fsm-ca-bundle secret with ca.crt and private.key', async () => {
    const store = new FileSecretStore({ dataDir: tempDir() });
    const provider = await TresorProvider.start({ store });
    expect(provider.createdRoot).toBe(true);
    const secret = await store.get({ namespace: 'fsm-system', name: 'fsm-ca-bundle' });
    expect(Object.keys(secret?.data ?? {}).sort()).toEqual(['ca.crt', 'private.key']);
    const caPem = secret?.data['ca.crt']?.toString() ?? '';
    const text = opensslText(caPem);
    expect(text).toMatch(/Subject: .*CN\s*=\s*fsm-ca\.flomesh\.io/);
    expect(text).toMatch(/O\s*=\s*Flomesh Service Mesh/);
    expect(text).toContain('CA:TRUE');
    expect(secret?.data['private.key']?.toString()).toContain('-----BEGIN PRIVATE KEY-----');
    expect(provider.issuer.fingerprint).toBe(fingerprintSha256(caPem));
    const tenYears = provider.issuer.notAfter.getTime() - Date.now();
    expect(tenYears).toBeGreaterThan(87_599 * 3_600_000);
  });

  it('loads the existing root on the next start instead of making another', async () => {
    const store = new FileSecretStore({ dataDir: tempDir() });
    const first = await TresorProvider.start({ store, keyAlgorithm: 'rsa-2048' });
    const second = await TresorProvider.start({ store });
    expect(second.createdRoot).toBe(false);
    expect(second.issuer.fingerprint).toBe(first.issuer.fingerprint);
    expect(second.issuer.keyAlgorithm).toBe('rsa-2048');
  });

  it('ends 10 concurrent starts against Kubernetes with one root that all of them use', async () => {
    const ref = { namespace: target.namespace, name: uniqueName('fsm-ca-bundle') };
    const providers = await Promise.all(
      Array.from({ length: 10 }, () =>
        TresorProvider.start({ store: new KubernetesSecretStore({ kubeConfig: target.kubeConfig }), namespace: ref.namespace, secretName: ref.name }),
      ),
    );
    const reader = new KubernetesSecretStore({ kubeConfig: target.kubeConfig });
    const stored = await reader.get(ref);
    await reader.delete(ref);
    expect(providers.filter((p) => p.createdRoot)).toHaveLength(1);
    expect(new Set(providers.map((p) => p.issuer.fingerprint))).toEqual(new Set([fingerprintSha256(stored?.data['ca.crt']?.toString() ?? '')]));
  });

  it('ends 10 concurrent starts in separate processes sharing a file store with one root', async () => {
    const dataDir = tempDir();
    // One bundle for all ten: each process loading the TypeScript sources through tsx costs about
    // four times the CPU, and ten of those at once on two loaded cores ran past the time limit.
    const script = path.join(tempDir(), 'race-child.mjs');
    const { build } = await import('esbuild');
    await build({
      entryPoints: [path.join(here, '..', 'race-child.test-helpers.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      conditions: ['development'],
      outfile: script,
      logLevel: 'warning',
    });
    const children = Array.from({ length: 10 }, (_, i) => {
      const child = spawn(process.execPath, [script, dataDir, String(i)], { stdio: ['ignore', 'pipe', 'inherit'] });
      let stdout = '';
      const ready = new Promise<void>((resolve) => {
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          if (stdout.startsWith('ready\n')) resolve();
        });
      });
      const done = new Promise<string>((resolve, reject) => {
        child.on('exit', (code) => (code === 0 ? resolve(stdout.slice('ready\n'.length).trim()) : reject(new Error(`child ${i} exited with ${String(code)}`))));
      });
      return { ready, done };
    });
    // Every process is up before any of them may touch the store: a real race, not a queue.
    await Promise.all(children.map((c) => c.ready));
    writeFileSync(path.join(dataDir, 'go'), '');
    const results = (await Promise.all(children.map((c) => c.done))).map((line) => JSON.parse(line) as { created: boolean; fingerprint: string });
    const stored = await new FileSecretStore({ dataDir }).get({ namespace: 'fsm-system', name: 'fsm-ca-bundle' });
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.fingerprint))).toEqual(new Set([fingerprintSha256(stored?.data['ca.crt']?.toString() ?? '')]));
  }, 60_000);
});

describe('TresorProvider.start refuses an unusable CA bundle and leaves it untouched', () => {
  const rootA = createRootCa();
  const rootB = createRootCa();
  const expired = createRootCa({ now: new Date(Date.now() - 3 * 3_600_000), validityMs: 3_600_000 });
  const cases: Array<{ name: string; data: Record<string, string>; problem: RegExp }> = [
    { name: 'a key that does not match the certificate', data: { 'ca.crt': rootA.certificatePem, 'private.key': rootB.privateKeyPem }, problem: /KEY_MISMATCH/ },
    { name: 'an expired root', data: { 'ca.crt': expired.certificatePem, 'private.key': expired.privateKeyPem }, problem: /CA_EXPIRED.*expired/ },
    { name: 'unparsable PEM', data: { 'ca.crt': 'not a certificate', 'private.key': rootA.privateKeyPem }, problem: /INVALID_PEM/ },
    { name: 'a missing private key', data: { 'ca.crt': rootA.certificatePem }, problem: /data key "private\.key" missing/ },
  ];

  it.each(cases)('$name in a Kubernetes secret: CA_BUNDLE_INVALID naming the secret and the kubectl fix', async ({ data, problem }) => {
    const store = new KubernetesSecretStore({ kubeConfig: target.kubeConfig });
    const ref = { namespace: target.namespace, name: uniqueName('bad-bundle') };
    const raw = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v)]));
    const before = await store.create(ref, raw);
    const error = await startError(store, ref);
    const after = await store.get(ref);
    await store.delete(ref);
    expect(isProviderError(error) && error.code).toBe('CA_BUNDLE_INVALID');
    expect(isProviderError(error) && error.httpStatus).toBe(500);
    expect(error.message).toContain(`CA bundle secret ${ref.namespace}/${ref.name} is unusable`);
    expect(error.message).toMatch(problem);
    expect(error.message).toContain(`kubectl delete secret ${ref.name} -n ${ref.namespace}`);
    expect(error.message).not.toContain('PRIVATE KEY');
    expect(after?.resourceVersion).toBe(before.resourceVersion);
  });

  it('names the file to delete when the bundle is in the file store', async () => {
    const store = new FileSecretStore({ dataDir: tempDir() });
    const ref = { namespace: 'fsm-system', name: 'fsm-ca-bundle' };
    await store.create(ref, { 'ca.crt': Buffer.from(rootA.certificatePem), 'private.key': Buffer.from(rootB.privateKeyPem) });
    const before = readFileSync(store.pathOf(ref), 'utf8');
    const error = await startError(store, ref);
    expect(isProviderError(error) && error.code).toBe('CA_BUNDLE_INVALID');
    expect(error.message).toContain(`delete ${store.pathOf(ref)} and restart`);
    expect(readFileSync(store.pathOf(ref), 'utf8')).toBe(before);
  });
});
