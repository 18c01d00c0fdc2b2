import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubernetesTarget } from '../kubernetes-target.test-helpers.js';
import type { KubernetesTarget } from '../kubernetes-target.test-helpers.js';
import { FileSecretStore } from './file-store.js';
import { KubernetesSecretStore } from './kubernetes-store.js';
import { secretStoreContract } from './secret-store-contract.test-helpers.js';
import { isProviderError } from '../errors.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'fsm-file-store-'));
const fileStore = new FileSecretStore({ dataDir });
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

secretStoreContract(`the file store (${dataDir})`, () => ({ store: fileStore, namespace: 'fsm-system' }));

// The Kubernetes target is chosen at collection time so the suite's name says which one ran.
const target: KubernetesTarget = await kubernetesTarget();
console.info(`[secret-store] Kubernetes target: ${target.label}`);
const kubeStore = new KubernetesSecretStore({ kubeConfig: target.kubeConfig });
afterAll(() => target.close());
secretStoreContract(`the Kubernetes store on ${target.label}`, () => ({ store: kubeStore, namespace: target.namespace }));

describe('file store on disk', () => {
  let file: string;
  beforeAll(async () => {
    await fileStore.create({ namespace: 'fsm-system', name: 'fsm-ca-bundle' }, { 'ca.crt': Buffer.from('cert'), 'private.key': Buffer.from('key') });
    file = fileStore.pathOf({ namespace: 'fsm-system', name: 'fsm-ca-bundle' });
  });

  it('keeps one JSON file per secret shaped like a Secret manifest with base64 data', () => {
    expect(file).toBe(path.join(dataDir, 'secrets', 'fsm-system', 'fsm-ca-bundle.json'));
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    expect(manifest).toMatchObject({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: { name: 'fsm-ca-bundle', namespace: 'fsm-system' },
      data: { 'ca.crt': Buffer.from('cert').toString('base64'), 'private.key': Buffer.from('key').toString('base64') },
    });
  });

  it('makes files readable by the owner only (0600) and directories 0700', () => {
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(dataDir, 'secrets')).mode & 0o777).toBe(0o700);
  });

  it('leaves no temporary or lock files behind', () => {
    expect(readdirSync(path.dirname(file)).filter((f) => f.endsWith('.tmp') || f.endsWith('.lock'))).toEqual([]);
  });

  it('refuses names that would escape the data directory', async () => {
    const error = await fileStore.get({ namespace: '..', name: 'passwd' }).catch((e: unknown) => e);
    expect(isProviderError(error) && error.code).toBe('CONFIGURATION_INVALID');
  });

  it('names the file when its content is corrupt', async () => {
    const ref = { namespace: 'fsm-system', name: 'corrupt' };
    const { writeFileSync, mkdirSync } = await import('node:fs');
    mkdirSync(path.dirname(fileStore.pathOf(ref)), { recursive: true });
    writeFileSync(fileStore.pathOf(ref), '{not json');
    const error = await fileStore.get(ref).catch((e: unknown) => e);
    expect(isProviderError(error) && error.code).toBe('SECRET_STORE_ERROR');
    expect((error as Error).message).toContain(fileStore.pathOf(ref));
  });
});
