import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { opensslVerify } from '@fsm-certs/testing';
import { isProviderError } from '../errors.js';
import type { IssueRequest } from '../provider.js';
import { FileSecretStore } from '../secret-store/file-store.js';
import { TresorProvider } from './tresor-provider.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function twoReplicas(): Promise<{ store: FileSecretStore; a: TresorProvider; b: TresorProvider }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'fsm-tresor-rotation-'));
  dirs.push(dataDir);
  const store = new FileSecretStore({ dataDir });
  const a = await TresorProvider.start({ store });
  const b = await TresorProvider.start({ store });
  return { store, a, b };
}

const request: IssueRequest = { commonName: 'web.bookstore.cluster.local', dnsNames: [], uris: [], ipAddresses: [], validityMs: 3_600_000, keyAlgorithm: 'ecdsa-p256' };
const prepare = { kind: 'prepare', propagationMs: 5_000, spreadMs: 5_000, auto: true } as const;

async function rotationError(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  return isProviderError(error) ? `${error.code} ${error.httpStatus}` : String(error);
}

describe('Tresor staged root rotation in the CA bundle secret', () => {
  it('reads a secret with only ca.crt and private.key (FSM\'s shape) as idle with one trusted root', async () => {
    const { store, a } = await twoReplicas();
    const secret = await store.get(a.secretRef);
    expect(Object.keys(secret?.data ?? {}).sort()).toEqual(['ca.crt', 'private.key']);
    expect(a.material.rotation.stage).toBe('idle');
    expect((await a.trustBundle()).trustedCasPem).toEqual([a.issuer.certificatePem]);
  });

  it('prepares (old signs, both trusted), activates (new signs) and retires (only new trusted), keeping ca.crt the signer; another replica follows on reload', async () => {
    const { store, a, b } = await twoReplicas();
    const oldRoot = a.issuer.certificatePem;
    await a.applyRotationStep(prepare, 0);
    const newRoot = a.material.standby?.certificatePem ?? '';
    expect(a.material.rotation).toMatchObject({ stage: 'prepared', auto: true, propagationMs: 5_000, spreadMs: 5_000, generation: 1 });
    expect(await a.trustBundle()).toEqual({ issuingCaPem: oldRoot, trustedCasPem: [oldRoot, newRoot] });
    const stored = await store.get(a.secretRef);
    expect(Object.keys(stored?.data ?? {}).sort()).toEqual(['ca.crt', 'private.key', 'rotation.json', 'standby.crt', 'standby.key']);
    expect(stored?.data['ca.crt']?.toString()).toBe(oldRoot);

    const beforeActivation = await a.issue(request);
    expect(opensslVerify(beforeActivation.certificatePem, oldRoot).output).toMatch(/: OK/);
    expect(beforeActivation.trustedCasPem).toEqual([oldRoot, newRoot]);

    expect(await b.reload()).toBe(true);
    expect(await b.reload()).toBe(false);
    await b.applyRotationStep({ kind: 'activate' }, 1);
    expect((await store.get(a.secretRef))?.data['ca.crt']?.toString()).toBe(newRoot);
    await a.reload();
    const afterActivation = await a.issue(request);
    expect(opensslVerify(afterActivation.certificatePem, newRoot).output).toMatch(/: OK/);
    expect(opensslVerify(afterActivation.certificatePem, oldRoot).output).not.toMatch(/: OK/);
    expect(await a.trustBundle()).toEqual({ issuingCaPem: newRoot, trustedCasPem: [oldRoot, newRoot] });

    await a.applyRotationStep({ kind: 'retire' }, 2);
    expect(await a.trustBundle()).toEqual({ issuingCaPem: newRoot, trustedCasPem: [newRoot] });
    expect(Object.keys((await store.get(a.secretRef))?.data ?? {}).sort()).toEqual(['ca.crt', 'private.key', 'rotation.json']);
    const restarted = await TresorProvider.start({ store });
    expect(restarted.issuer.certificatePem).toBe(newRoot);
    expect(restarted.material.rotation.stage).toBe('retired');
  });

  it('rolls back after activation to the old signer with both roots trusted, then removes the new root', async () => {
    const { a } = await twoReplicas();
    const oldRoot = a.issuer.certificatePem;
    await a.applyRotationStep(prepare, 0);
    const newRoot = a.material.standby?.certificatePem ?? '';
    await a.applyRotationStep({ kind: 'activate' }, 1);
    await a.applyRotationStep({ kind: 'rollback' }, 2);
    expect(a.material.rotation).toMatchObject({ stage: 'rolled-back', auto: false });
    expect(await a.trustBundle()).toEqual({ issuingCaPem: oldRoot, trustedCasPem: [oldRoot, newRoot] });
    expect(opensslVerify((await a.issue(request)).certificatePem, oldRoot).output).toMatch(/: OK/);
    await a.applyRotationStep({ kind: 'rollback' }, 3);
    expect(a.material.rotation.stage).toBe('idle');
    expect(await a.trustBundle()).toEqual({ issuingCaPem: oldRoot, trustedCasPem: [oldRoot] });
  });

  it('refuses a step the stage does not allow, and a step decided on a stale generation, with ROTATION_CONFLICT 409', async () => {
    const { a, b } = await twoReplicas();
    expect(await rotationError(a.applyRotationStep({ kind: 'activate' }, 0))).toBe('ROTATION_CONFLICT 409');
    expect(await rotationError(a.applyRotationStep({ kind: 'retire' }, 0))).toBe('ROTATION_CONFLICT 409');
    await a.applyRotationStep(prepare, 0);
    expect(await rotationError(b.applyRotationStep(prepare, 0))).toBe('ROTATION_CONFLICT 409');
    expect(await rotationError(a.applyRotationStep(prepare, 1))).toBe('ROTATION_CONFLICT 409');
    await a.applyRotationStep({ kind: 'flags', paused: true }, 1);
    expect(a.material.rotation).toMatchObject({ stage: 'prepared', paused: true, generation: 2 });
  });
});
