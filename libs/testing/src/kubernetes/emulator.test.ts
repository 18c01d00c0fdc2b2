import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiException, CoreV1Api, Watch } from '@kubernetes/client-node';
import type { V1Secret } from '@kubernetes/client-node';
import { KubernetesEmulator } from './emulator.js';
import type { WatchEvent } from './types.js';

let emulator: KubernetesEmulator;
let core: CoreV1Api;

beforeAll(async () => {
  emulator = await KubernetesEmulator.start();
  core = emulator.kubeConfig().makeApiClient(CoreV1Api);
});
afterAll(async () => {
  await emulator.close();
});

function b64(text: string): string {
  return Buffer.from(text).toString('base64');
}

function secret(name: string, data: Record<string, string> = { 'ca.crt': b64('cert') }): V1Secret {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name }, type: 'Opaque', data };
}

async function raw(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${emulator.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${emulator.token ?? ''}`, 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function apiError(promise: Promise<unknown>): Promise<{ code: number; body: Record<string, unknown> }> {
  try {
    await promise;
  } catch (error) {
    // client-node 1.4 hands the Status body over as the raw response text.
    if (error instanceof ApiException) {
      const body: unknown = typeof error.body === 'string' ? JSON.parse(error.body) : error.body;
      return { code: error.code, body: body as Record<string, unknown> };
    }
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe('Kubernetes API emulator: core/v1 Secrets through @kubernetes/client-node', () => {
  it('creates a secret with 201 and returns server-set metadata', async () => {
    const res = await raw('POST', '/api/v1/namespaces/ns1/secrets', secret('created'));
    expect(res.status).toBe(201);
    const metadata = res.json.metadata as Record<string, unknown>;
    expect(metadata).toMatchObject({ name: 'created', namespace: 'ns1' });
    expect(metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(metadata.resourceVersion).toMatch(/^\d+$/);
    expect(metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(res.json.type).toBe('Opaque');
  });

  it('reads back what was created, base64 data intact', async () => {
    await core.createNamespacedSecret({ namespace: 'ns1', body: secret('roundtrip', { 'private.key': b64('k') }) });
    const read = await core.readNamespacedSecret({ namespace: 'ns1', name: 'roundtrip' });
    expect(read.data?.['private.key']).toBe(b64('k'));
    expect(read.kind).toBe('Secret');
  });

  it('answers a second create of the same name with 409 AlreadyExists Status', async () => {
    await core.createNamespacedSecret({ namespace: 'ns1', body: secret('dup') });
    const { code, body } = await apiError(core.createNamespacedSecret({ namespace: 'ns1', body: secret('dup') }));
    expect(code).toBe(409);
    expect(body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'secrets "dup" already exists',
      reason: 'AlreadyExists',
      details: { name: 'dup', kind: 'secrets' },
      code: 409,
    });
  });

  it('answers a missing secret with 404 NotFound Status', async () => {
    const { code, body } = await apiError(core.readNamespacedSecret({ namespace: 'ns1', name: 'absent' }));
    expect(code).toBe(404);
    expect(body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404, message: 'secrets "absent" not found' });
  });

  it('keeps namespaces apart', async () => {
    await core.createNamespacedSecret({ namespace: 'ns-a', body: secret('same') });
    await core.createNamespacedSecret({ namespace: 'ns-b', body: secret('same') });
    const list = await core.listNamespacedSecret({ namespace: 'ns-a' });
    expect(list.items.map((s) => s.metadata?.name)).toEqual(['same']);
  });

  it('replaces with a current resourceVersion and refuses a stale one with 409 Conflict', async () => {
    const created = await core.createNamespacedSecret({ namespace: 'ns1', body: secret('occ') });
    const updated = await core.replaceNamespacedSecret({
      namespace: 'ns1',
      name: 'occ',
      body: { ...created, data: { 'ca.crt': b64('v2') } },
    });
    expect(Number(updated.metadata?.resourceVersion)).toBeGreaterThan(Number(created.metadata?.resourceVersion));
    const { code, body } = await apiError(
      core.replaceNamespacedSecret({ namespace: 'ns1', name: 'occ', body: { ...created, data: { 'ca.crt': b64('v3') } } }),
    );
    expect(code).toBe(409);
    expect(body).toMatchObject({ reason: 'Conflict', code: 409 });
    expect(String(body.message)).toContain('the object has been modified');
    const read = await core.readNamespacedSecret({ namespace: 'ns1', name: 'occ' });
    expect(read.data?.['ca.crt']).toBe(b64('v2'));
  });

  it('replacing a secret that does not exist is 404', async () => {
    const { code } = await apiError(core.replaceNamespacedSecret({ namespace: 'ns1', name: 'ghost', body: secret('ghost') }));
    expect(code).toBe(404);
  });

  it('deletes with 200 Success, then reports 404 for the next delete', async () => {
    await core.createNamespacedSecret({ namespace: 'ns1', body: secret('gone') });
    const res = await raw('DELETE', '/api/v1/namespaces/ns1/secrets/gone');
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ kind: 'Status', status: 'Success', details: { name: 'gone', kind: 'secrets' } });
    const { code } = await apiError(core.deleteNamespacedSecret({ namespace: 'ns1', name: 'gone' }));
    expect(code).toBe(404);
  });

  it('rejects an invalid name and an invalid data key with 422 Invalid and causes', async () => {
    const { code, body } = await apiError(core.createNamespacedSecret({ namespace: 'ns1', body: secret('Bad_Name') }));
    expect(code).toBe(422);
    expect(body).toMatchObject({ reason: 'Invalid', details: { name: 'Bad_Name', kind: 'Secret', causes: [{ field: 'metadata.name' }] } });
    const badKey = await apiError(core.createNamespacedSecret({ namespace: 'ns1', body: secret('good', { 'bad key': b64('x') }) }));
    expect(badKey.code).toBe(422);
    expect(String(badKey.body.message)).toContain('data[bad key]');
  });

  it('refuses a change of type and data of an immutable secret with 422', async () => {
    const created = await core.createNamespacedSecret({ namespace: 'ns1', body: { ...secret('frozen'), immutable: true } });
    const { code, body } = await apiError(
      core.replaceNamespacedSecret({ namespace: 'ns1', name: 'frozen', body: { ...created, type: 'kubernetes.io/tls', data: { 'tls.crt': b64('a'), 'tls.key': b64('b') } } }),
    );
    expect(code).toBe(422);
    expect(String(body.message)).toContain('type: Invalid value');
    expect(String(body.message)).toContain('field is immutable when `immutable` is set');
  });

  it('names an object from generateName', async () => {
    const created = await core.createNamespacedSecret({ namespace: 'ns1', body: { metadata: { generateName: 'fsm-' }, data: {} } });
    expect(created.metadata?.name).toMatch(/^fsm-[a-z0-9]{5}$/);
  });

  it('folds stringData into base64 data', async () => {
    const created = await core.createNamespacedSecret({ namespace: 'ns1', body: { metadata: { name: 'sd' }, stringData: { token: 'xyz' } } });
    expect(created.data).toEqual({ token: b64('xyz') });
    expect(created.stringData).toBeUndefined();
  });

  it('applies a merge patch', async () => {
    await core.createNamespacedSecret({ namespace: 'ns1', body: { metadata: { name: 'patched', labels: { a: '1' } }, data: {} } });
    const res = await raw('PATCH', '/api/v1/namespaces/ns1/secrets/patched', { metadata: { labels: { b: '2' } } }, { 'content-type': 'application/merge-patch+json' });
    expect(res.status).toBe(200);
    expect((res.json.metadata as { labels: unknown }).labels).toEqual({ a: '1', b: '2' });
  });

  it('requires the bearer token', async () => {
    const res = await fetch(`${emulator.url}/api/v1/namespaces/ns1/secrets/created`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
  });

  it('answers unknown resources with a 404 Status', async () => {
    const res = await raw('GET', '/apis/example.com/v1/namespaces/ns1/widgets');
    expect(res.status).toBe(404);
    expect(res.json).toMatchObject({ kind: 'Status', reason: 'NotFound' });
  });

  it('streams watch events for one name, from a resourceVersion', async () => {
    const start = await core.createNamespacedSecret({ namespace: 'ns-w', body: secret('watched') });
    const events: string[] = [];
    const done = new Promise<void>((resolve) => {
      void new Watch(emulator.kubeConfig()).watch(
        '/api/v1/namespaces/ns-w/secrets',
        { fieldSelector: 'metadata.name=watched', resourceVersion: start.metadata?.resourceVersion ?? '0' },
        (type, object: V1Secret) => {
          events.push(`${type} ${object.metadata?.name ?? ''}`);
          if (type === 'DELETED') resolve();
        },
        () => undefined,
      );
    });
    // From the resourceVersion on: what happens before the watch is connected is delivered too.
    await core.createNamespacedSecret({ namespace: 'ns-w', body: secret('other') });
    await core.replaceNamespacedSecret({ namespace: 'ns-w', name: 'watched', body: { ...secret('watched'), data: {} } });
    await core.deleteNamespacedSecret({ namespace: 'ns-w', name: 'watched' });
    await done;
    expect(events).toEqual(['MODIFIED watched', 'DELETED watched']);
  });

  it('lets an in-process controller watch and write through the store', async () => {
    const seen: WatchEvent[] = [];
    const stop = emulator.store.watch(emulator.secrets, { namespace: 'ns-c' }, (e) => seen.push(e));
    await core.createNamespacedSecret({ namespace: 'ns-c', body: secret('ctl') });
    stop();
    expect(seen.map((e) => `${e.type} ${e.object.metadata.name ?? ''}`)).toEqual(['ADDED ctl']);
  });

  it('lets a test inject faults with an interceptor', async () => {
    const remove = emulator.addInterceptor((req) =>
      req.path.endsWith('/flaky') ? { status: 503, body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'ServiceUnavailable', code: 503 } } : undefined,
    );
    const { code } = await apiError(core.readNamespacedSecret({ namespace: 'ns1', name: 'flaky' }));
    remove();
    expect(code).toBe(503);
  });
});
