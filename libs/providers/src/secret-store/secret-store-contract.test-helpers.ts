// The behaviour every SecretStore must show, run unchanged against the file store, the
// Kubernetes emulator and (with KUBECONFIG) a real cluster.
import { afterAll, describe, expect, it } from 'vitest';
import { isProviderError } from '../errors.js';
import type { ProviderErrorCode } from '../errors.js';
import { uniqueName } from '../kubernetes-target.test-helpers.js';
import type { SecretRef, SecretStore } from './types.js';

async function errorCode(promise: Promise<unknown>): Promise<ProviderErrorCode | string> {
  try {
    await promise;
  } catch (error) {
    return isProviderError(error) ? error.code : `not a ProviderError: ${String(error)}`;
  }
  return 'no error';
}

const PEM = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
const BINARY = Buffer.from([0, 1, 2, 254, 255, 10, 13]);

export function secretStoreContract(target: string, setup: () => { store: SecretStore; namespace: string }): void {
  describe(`SecretStore contract against ${target}`, () => {
    const created: SecretRef[] = [];
    const ref = (prefix: string): SecretRef => {
      const r = { namespace: setup().namespace, name: uniqueName(prefix) };
      created.push(r);
      return r;
    };
    afterAll(async () => {
      const { store } = setup();
      await Promise.all(created.map((r) => store.delete(r).catch(() => false)));
    });

    it('reports an absent secret as undefined', async () => {
      expect(await setup().store.get(ref('absent'))).toBeUndefined();
    });

    it('returns exactly the bytes it stored, PEM and binary alike', async () => {
      const { store } = setup();
      const r = ref('roundtrip');
      const stored = await store.create(r, { 'ca.crt': PEM, 'private.key': BINARY });
      expect(stored.resourceVersion).not.toBe('');
      const read = await store.get(r);
      expect(read?.data['ca.crt']?.equals(PEM)).toBe(true);
      expect(read?.data['private.key']?.equals(BINARY)).toBe(true);
      expect(read?.resourceVersion).toBe(stored.resourceVersion);
      expect(read?.ref).toEqual(r);
    });

    it('refuses to create a secret that exists with SECRET_ALREADY_EXISTS and keeps the first', async () => {
      const { store } = setup();
      const r = ref('twice');
      await store.create(r, { 'ca.crt': Buffer.from('first') });
      expect(await errorCode(store.create(r, { 'ca.crt': Buffer.from('second') }))).toBe('SECRET_ALREADY_EXISTS');
      expect((await store.get(r))?.data['ca.crt']?.toString()).toBe('first');
    });

    it('lets exactly one of 10 concurrent creators win', async () => {
      const { store } = setup();
      const r = ref('race');
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => store.create(r, { 'ca.crt': Buffer.from(`creator-${i}`) }).then(() => 'won', (e: unknown) => (isProviderError(e) ? e.code : String(e)))),
      );
      expect(results.filter((x) => x === 'won')).toHaveLength(1);
      expect(results.filter((x) => x === 'SECRET_ALREADY_EXISTS')).toHaveLength(9);
    });

    it('updates with the current resourceVersion and refuses a stale one with SECRET_CONFLICT', async () => {
      const { store } = setup();
      const r = ref('occ');
      const v1 = await store.create(r, { 'ca.crt': Buffer.from('v1') });
      const v2 = await store.update(r, { 'ca.crt': Buffer.from('v2') }, v1.resourceVersion);
      expect(v2.resourceVersion).not.toBe(v1.resourceVersion);
      expect(await errorCode(store.update(r, { 'ca.crt': Buffer.from('v3') }, v1.resourceVersion))).toBe('SECRET_CONFLICT');
      const read = await store.get(r);
      expect(read?.data['ca.crt']?.toString()).toBe('v2');
      expect(read?.resourceVersion).toBe(v2.resourceVersion);
    });

    it('lets only one of two updates from the same version win', async () => {
      const { store } = setup();
      const r = ref('cas');
      const v1 = await store.create(r, { 'ca.crt': Buffer.from('v1') });
      const results = await Promise.allSettled([
        store.update(r, { 'ca.crt': Buffer.from('a') }, v1.resourceVersion),
        store.update(r, { 'ca.crt': Buffer.from('b') }, v1.resourceVersion),
      ]);
      expect(results.filter((x) => x.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.find((x) => x.status === 'rejected');
      expect(rejected !== undefined && isProviderError(rejected.reason) ? rejected.reason.code : undefined).toBe('SECRET_CONFLICT');
    });

    it('treats an update of a deleted secret as a conflict', async () => {
      const { store } = setup();
      const r = ref('deleted');
      const v1 = await store.create(r, { 'ca.crt': Buffer.from('v1') });
      expect(await store.delete(r)).toBe(true);
      expect(await errorCode(store.update(r, { 'ca.crt': Buffer.from('v2') }, v1.resourceVersion))).toBe('SECRET_CONFLICT');
    });

    it('deletes once: true, then false, then the secret is absent', async () => {
      const { store } = setup();
      const r = ref('delete');
      await store.create(r, { 'ca.crt': PEM });
      expect(await store.delete(r)).toBe(true);
      expect(await store.delete(r)).toBe(false);
      expect(await store.get(r)).toBeUndefined();
    });

    it('keeps namespaces apart', async () => {
      const { store, namespace } = setup();
      const name = uniqueName('ns');
      const r = { namespace, name };
      created.push(r);
      await store.create(r, { 'ca.crt': PEM });
      // A second namespace that certainly has no such secret.
      expect(await store.get({ namespace: 'kube-public', name })).toBeUndefined();
    });
  });
}
