// A cancelled issue settles within the provider's cancelSettleMs even when the API server stops
// answering: the delete of its CertificateRequest is given up (and logged with the command that
// removes it) instead of holding up a stopping ca-service. The client is a fake at the process
// boundary; the real API round trip is covered by cert-manager.integration.test.ts.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CertManagerClient } from './client.js';
import { CertManagerProvider, DELETE_REQUEST_TIMEOUT_MS } from './provider.js';

afterEach(() => {
  vi.useRealTimers();
});

/** An API server that accepts the request, never signs it, and then stops answering deletes. */
function hangingApiServer(): { client: CertManagerClient; deletes: string[] } {
  const deletes: string[] = [];
  const pending = { metadata: { name: 'fsm-abcde', namespace: 'fsm-system' }, status: { conditions: [] } };
  const client: CertManagerClient = {
    getIssuer: () => Promise.resolve({ metadata: { name: 'fsm-ca' }, spec: { ca: { secretName: 'fsm-ca-key-pair' } } }),
    createCertificateRequest: () => Promise.resolve(pending),
    getCertificateRequest: () => Promise.resolve(pending),
    listCertificateRequests: () => Promise.resolve([pending]),
    watchCertificateRequest: () => Promise.resolve({ stop: () => undefined }),
    deleteCertificateRequest: (_namespace, name) => {
      deletes.push(name);
      return new Promise<boolean>(() => undefined);
    },
  };
  return { client, deletes };
}

describe('cancelling a cert-manager issue', () => {
  it('gives up a delete the API server does not answer, logs the kubectl command, and settles within cancelSettleMs', async () => {
    vi.useFakeTimers({ now: 0, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { client, deletes } = hangingApiServer();
    const warnings: string[] = [];
    const provider = new CertManagerProvider({}, { client, secrets: { get: () => Promise.resolve(undefined) }, logger: { warn: (_fields, message) => warnings.push(message) } });
    // The cancel arrives while the create is in flight: the request exists, the wait ends at once.
    const cancel = new AbortController();
    cancel.abort(new Error('shutdown budget nearly spent'));
    const issuing = provider.issue(
      { commonName: 'slow.bookstore.cluster.local', dnsNames: [], uris: [], ipAddresses: [], validityMs: 3_600_000, keyAlgorithm: 'ecdsa-p256' },
      cancel.signal,
    );
    const outcome = issuing.then(
      () => 'issued',
      (error: unknown) => (error instanceof Error && 'code' in error ? String(error.code) : 'unknown'),
    );
    await vi.advanceTimersByTimeAsync(0);
    expect(deletes).toEqual(['fsm-abcde']);
    await vi.advanceTimersByTimeAsync(DELETE_REQUEST_TIMEOUT_MS);
    expect(await outcome).toBe('ISSUANCE_TIMEOUT');
    expect(warnings).toEqual(['could not delete CertificateRequest; remove it with kubectl delete certificaterequest -n fsm-system fsm-abcde']);
    expect(DELETE_REQUEST_TIMEOUT_MS).toBeLessThanOrEqual(provider.cancelSettleMs);
  });
});
