// The cert-manager suite: one file, three possible targets (KUBECONFIG cluster, k3s in
// Testcontainers, the emulator); it prints which one it ran against. Hook-only scenarios
// (Denied, Failed, status.ca absent, broken watch) need the emulator and are skipped elsewhere.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eventually, opensslCsr, opensslVerify, opensslX509 } from '@fsm-certs/testing';
import { createCsr, generateKeyPair, inspectCertificate } from '@fsm-certs/x509';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { IssueRequest } from '../provider.js';
import { FileSecretStore } from '../secret-store/file-store.js';
import { KubernetesSecretStore } from '../secret-store/kubernetes-store.js';
import { KubernetesCertManagerClient } from './client.js';
import { CertManagerProvider } from './provider.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from './resources.js';
import { selectTarget, type CertManagerTarget } from './targets.test-helpers.js';
import { providerFailure } from '../provider-error.test-helpers.js';

const target: CertManagerTarget = await selectTarget();
console.log(`[cert-manager suite] target: ${target.kind} — ${target.description}`);
const hooks = target.controls;
const client = new KubernetesCertManagerClient(target.kubeConfig);
const secrets = new KubernetesSecretStore({ kubeConfig: target.kubeConfig });

function provider(
  overrides: Partial<ConstructorParameters<typeof CertManagerProvider>[0]> = {},
  deps: Partial<ConstructorParameters<typeof CertManagerProvider>[1]> = {},
): CertManagerProvider {
  return new CertManagerProvider(
    { issuerName: target.issuerName, namespace: target.namespace, caBundleSecretName: target.caBundleSecretName, timeoutMs: 60_000, pollIntervalMs: 200, ...overrides },
    { client, secrets, ...deps },
  );
}

function request(commonName: string, extra: Partial<IssueRequest> = {}): IssueRequest {
  return { commonName, dnsNames: [], uris: [], ipAddresses: [], validityMs: 24 * 3600_000, keyAlgorithm: 'ecdsa-p256', ...extra };
}

/** Our CertificateRequests still present in the namespace. */
async function leftovers(): Promise<string[]> {
  const list = await client.listCertificateRequests(target.namespace, `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`);
  return list.map((item) => item.metadata.name);
}

beforeAll(() => {
  expect(target.kind).toMatch(/^(kubeconfig|k3s|emulator)$/);
});
afterEach(async () => {
  hooks?.certManager.resetBehaviour();
  expect(await leftovers()).toEqual([]);
});
afterAll(async () => {
  await target.close();
});

describe(`cert-manager provider against ${target.kind}`, () => {
  it('issues with a server-generated key; the chain verifies with openssl against ca.crt of the bundle', async () => {
    const issued = await provider().issue(request('bookstore-v1.bookstore.cluster.local', { uris: ['spiffe://cluster.local/ns/bookstore/sa/bookstore-v1'] }));
    const answered = Date.now();
    expect(opensslVerify(issued.certificatePem, target.caPem, { purpose: 'sslserver' }).output).toMatch(/: OK/);
    expect(issued.privateKeyPem).toMatch(/BEGIN PRIVATE KEY/);
    expect(issued.trustedCasPem).toContain(target.caPem);
    const info = inspectCertificate(issued.certificatePem);
    expect(info.commonName).toBe('bookstore-v1.bookstore.cluster.local');
    expect(info.uris).toEqual(['spiffe://cluster.local/ns/bookstore/sa/bookstore-v1']);
    expect(issued.notAfter.getTime() - issued.notBefore.getTime()).toBeGreaterThan(23 * 3600_000);
    // Signed before the answer came: at most 24 h (and a little clock skew) after it.
    expect(issued.notAfter.getTime()).toBeLessThanOrEqual(answered + 24 * 3600_000 + 5_000);
    expect(issued.serialNumber).toBe(info.serialNumber.toLowerCase());
    expect(issued.provider).toBe('cert-manager');
  });

  it('issues for a caller CSR without ever seeing its key', async () => {
    const keyPair = generateKeyPair('rsa-2048');
    const csrPem = createCsr({ commonName: 'bookstore-v2.bookstore.cluster.local', dnsNames: ['bookstore-v2.bookstore.cluster.local'], keyPair });
    const issued = await provider().issue(request('bookstore-v2.bookstore.cluster.local', { csrPem }));
    expect(issued.privateKeyPem).toBeUndefined();
    expect(opensslVerify(issued.certificatePem, target.caPem, { purpose: 'sslserver' }).output).toMatch(/: OK/);
    expect(inspectCertificate(issued.certificatePem).keyType).toBe('rsa');
  });

  it.each([
    ['an EC server key', 'Digital Signature', 'ecdsa-p256', false],
    ['an RSA server key', 'Digital Signature, Key Encipherment', 'rsa-2048', false],
    ['an EC CSR', 'Digital Signature', 'ecdsa-p256', true],
    ['an RSA CSR', 'Digital Signature, Key Encipherment', 'rsa-2048', true],
  ] as const)('asks for the usages the key family allows: %s gets "%s"', async (_name, usages, keyAlgorithm, csrMode) => {
    const cn = `usages-${keyAlgorithm}-${csrMode ? 'csr' : 'key'}.bookstore.cluster.local`;
    const csrPem = csrMode ? createCsr({ commonName: cn, keyPair: generateKeyPair(keyAlgorithm) }) : undefined;
    const issued = await provider().issue(request(cn, { keyAlgorithm, ...(csrPem === undefined ? {} : { csrPem }) }));
    // RFC 5480: an EC key never carries keyEncipherment; cert-manager signs whatever usages it is asked for.
    expect(opensslX509(issued.certificatePem, ['-ext', 'keyUsage']).trim().split('\n').map((line) => line.trim())).toEqual([
      'X509v3 Key Usage: critical',
      usages,
    ]);
  });

  it('refuses a CSR asking for a name beyond the caller identity, before creating anything', async () => {
    const csrPem = createCsr({ commonName: 'bookstore-v2.bookstore.cluster.local', dnsNames: ['admin.fsm-system.svc'], keyPair: generateKeyPair() });
    const error = await providerFailure(provider().issue(request('bookstore-v2.bookstore.cluster.local', { csrPem })));
    expect(error.code).toBe('INVALID_REQUEST');
    expect(error.message).toContain('admin.fsm-system.svc');
  });

  it('refuses an ACME issuer clearly', async () => {
    const error = await providerFailure(provider({ issuerName: target.acmeIssuerName }).issue(request('acme.bookstore.cluster.local')));
    expect(error.code).toBe('UNSUPPORTED_ISSUER');
    expect(error.message).toMatch(/ACME .*not supported/);
  });

  it('times out with a clear, retryable error when the issuer never signs, and deletes the request', async () => {
    const error = await providerFailure(provider({ issuerName: target.stalledIssuerName, timeoutMs: 1_500 }).issue(request('stalled.bookstore.cluster.local')));
    expect(error.code).toBe('ISSUANCE_TIMEOUT');
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/was not issued within 1500 ms/);
  });

  it('issues 20 certificates concurrently, each distinct and verifiable', async () => {
    const p = provider();
    const started = performance.now();
    const issued = await Promise.all(Array.from({ length: 20 }, (_, i) => p.issue(request(`svc-${i}.load.cluster.local`))));
    const elapsedMs = Math.round(performance.now() - started);
    console.log(`[cert-manager suite] 20 concurrent issues on ${target.kind}: ${elapsedMs} ms`);
    expect(new Set(issued.map((cert) => cert.serialNumber)).size).toBe(20);
    for (const [i, cert] of issued.entries()) {
      expect(inspectCertificate(cert.certificatePem).commonName).toBe(`svc-${i}.load.cluster.local`);
      expect(opensslVerify(cert.certificatePem, target.caPem, { purpose: 'sslserver' }).output).toMatch(/: OK/);
    }
  });
});

describe(`cert-manager provider: the usages a CSR requests (cert-manager's webhook; target is ${target.kind})`, () => {
  const cn = 'bookstore-v3.bookstore.cluster.local';
  const mtls = ['keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth,clientAuth'];

  function usagesOf(certificatePem: string): string[] {
    return opensslX509(certificatePem, ['-ext', 'keyUsage,extendedKeyUsage']).split('\n').map((line) => line.trim()).filter((line) => line !== '');
  }

  it.each([
    ['the usual EC mTLS CSR', mtls, 'ec-p256', ['X509v3 Key Usage: critical', 'Digital Signature', 'X509v3 Extended Key Usage:', 'TLS Web Server Authentication, TLS Web Client Authentication']],
    [
      'an RSA CSR with keyEncipherment',
      ['keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=serverAuth,clientAuth'],
      'rsa-2048',
      ['X509v3 Key Usage: critical', 'Digital Signature, Key Encipherment', 'X509v3 Extended Key Usage:', 'TLS Web Server Authentication, TLS Web Client Authentication'],
    ],
    ['a client-only CSR, ExtKeyUsages first', ['extendedKeyUsage=clientAuth'], 'ec-p256', ['X509v3 Extended Key Usage:', 'TLS Web Client Authentication']],
  ] as const)('issues %s with exactly the usages it requests', async (_name, extensions, keyType, expected) => {
    const csrPem = opensslCsr(cn, [...extensions], keyType);
    const issued = await provider().issue(request(cn, { csrPem }));
    expect(usagesOf(issued.certificatePem)).toEqual(expected);
    expect(opensslVerify(issued.certificatePem, target.caPem).output).toMatch(/: OK/);
  });

  it.each([
    ['keyEncipherment on an EC key', ['keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=serverAuth,clientAuth'], /keyEncipherment/],
    ['codeSigning', ['keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth,codeSigning'], /codeSigning/],
    ['a CA certificate', ['basicConstraints=critical,CA:TRUE'], /CA:TRUE/],
  ] as const)('refuses a CSR asking for %s with 400 naming it, before creating anything', async (_name, extensions, named) => {
    const error = await providerFailure(provider().issue(request(cn, { csrPem: opensslCsr(cn, [...extensions]) })));
    expect({ code: error.code, status: error.httpStatus }).toEqual({ code: 'INVALID_REQUEST', status: 400 });
    expect(error.message).toMatch(named);
  });

  it("reports cert-manager's admission denial as 400 with its message, never as RBAC, and without the CSR", async () => {
    const csrPem = opensslCsr(cn, mtls);
    const error = await providerFailure(
      client.createCertificateRequest({
        apiVersion: 'cert-manager.io/v1',
        kind: 'CertificateRequest',
        metadata: { generateName: 'fsm-', namespace: target.namespace, labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE } },
        spec: {
          request: Buffer.from(csrPem).toString('base64'),
          issuerRef: { name: target.issuerName, kind: 'Issuer', group: 'cert-manager.io' },
          duration: '24h0m0s',
          usages: ['digital signature', 'key encipherment', 'server auth', 'client auth'],
          isCA: false,
        },
      }),
    );
    expect({ code: error.code, status: error.httpStatus }).toEqual({ code: 'INVALID_REQUEST', status: 400 });
    expect(error.message).toMatch(/webhook\.cert-manager\.io/);
    expect(error.message).toMatch(/KeyUsages/);
    expect(error.message).not.toMatch(/RBAC|0x2d|LS0tLS1CRUdJTi/);
  });
});

describe(`cert-manager provider: stopping while a request waits (target is ${target.kind})`, () => {
  // The never-ready issuer keeps the request waiting, on the emulator and on a real cluster alike.
  const waiting = async (): Promise<string[]> => eventually(async () => {
    const names = await leftovers();
    return names.length > 0 ? names : undefined;
  }, 20_000, 'the CertificateRequest to be created');

  it('close() ends the wait at once, deletes the CertificateRequest, and the issue fails retryably', async () => {
    const p = provider({ issuerName: target.stalledIssuerName, timeoutMs: 600_000 });
    const issuing = providerFailure(p.issue(request('stopping.bookstore.cluster.local')));
    await waiting();
    await p.close();
    const error = await issuing;
    expect({ code: error.code, retryable: error.retryable }).toEqual({ code: 'ISSUANCE_TIMEOUT', retryable: true });
    expect(error.message).toMatch(/cancelled/);
    expect(await leftovers()).toEqual([]);
    const refused = await providerFailure(p.issue(request('after-close.bookstore.cluster.local')));
    expect(refused.code).toBe('BACKEND_UNAVAILABLE');
  });

  it("an aborted caller signal ends that issue's wait and deletes its request; the provider keeps serving", async () => {
    const p = provider({ issuerName: target.stalledIssuerName, timeoutMs: 600_000 });
    const cancel = new AbortController();
    const issuing = providerFailure(p.issue(request('aborted.bookstore.cluster.local'), cancel.signal));
    await waiting();
    cancel.abort(new Error('shutdown budget nearly spent'));
    expect((await issuing).code).toBe('ISSUANCE_TIMEOUT');
    expect(await leftovers()).toEqual([]);
    await p.close();
  });
});

describe.skipIf(hooks === undefined)(`cert-manager provider: terminal states (needs emulator hooks; target is ${target.kind})`, () => {
  it('ends at once on Denied with the approver message', async () => {
    hooks?.certManager.setBehaviour({ approval: 'deny', denyMessage: 'policy forbids bookstore' });
    // At once: had it waited for its timeout instead, the code would be ISSUANCE_TIMEOUT.
    const error = await providerFailure(provider().issue(request('denied.bookstore.cluster.local')));
    expect(error.code).toBe('ISSUANCE_DENIED');
    expect(error.httpStatus).toBe(403);
    expect(error.message).toContain('policy forbids bookstore');
  });

  it('ends at once on Ready=False reason Failed with the issuer message', async () => {
    hooks?.certManager.setBehaviour({ signing: 'fail', failMessage: 'CA key pair is unusable' });
    const error = await providerFailure(provider().issue(request('failed.bookstore.cluster.local')));
    expect(error.code).toBe('ISSUANCE_FAILED');
    expect(error.message).toContain('CA key pair is unusable');
  });

  it('takes the CA from ca.crt of the bundle when status.ca is absent', async () => {
    hooks?.certManager.setBehaviour({ omitCa: true });
    const issued = await provider().issue(request('no-status-ca.bookstore.cluster.local'));
    expect(issued.issuingCaPem).toBe(target.caPem);
    expect(opensslVerify(issued.certificatePem, issued.issuingCaPem, { purpose: 'sslserver' }).output).toMatch(/: OK/);
  });

  it('names the kubectl fix when status.ca is absent and the bundle Secret is missing', async () => {
    hooks?.certManager.setBehaviour({ omitCa: true });
    const error = await providerFailure(provider({ caBundleSecretName: 'no-such-bundle' }).issue(request('no-bundle.bookstore.cluster.local')));
    expect(error.code).toBe('CA_BUNDLE_MISSING');
    expect(error.message).toContain(`kubectl create secret -n ${target.namespace} generic no-such-bundle --from-file ca.crt`);
  });

  it('does not advise kubectl for a missing bundle when this process reads secrets from files', async () => {
    hooks?.certManager.setBehaviour({ omitCa: true });
    const dataDir = mkdtempSync(path.join(tmpdir(), 'fsm-cm-files-'));
    try {
      const error = await providerFailure(provider({}, { secrets: new FileSecretStore({ dataDir }) }).issue(request('file-store.bookstore.cluster.local')));
      expect(error.code).toBe('CA_BUNDLE_MISSING');
      expect(error.message).toContain('FSM_SECRET_STORE=kubernetes');
      expect(error.message).not.toContain('kubectl create secret');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('learns the outcome from the watch, reading the request only once', async () => {
    let reads = 0;
    const remove = hooks?.kube.addInterceptor((req) => {
      if (req.method === 'GET' && /\/certificaterequests\/fsm-/.test(req.path)) reads += 1;
      return undefined;
    });
    hooks?.certManager.setBehaviour({ delayMs: 150 });
    try {
      await provider().issue(request('watched.bookstore.cluster.local'));
      expect(reads).toBe(1);
    } finally {
      remove?.();
    }
  });

  it('falls back to polling when the watch cannot be opened', async () => {
    const seen = { watches: 0, reads: 0 };
    const remove = hooks?.kube.addInterceptor((req) => {
      if (req.method !== 'GET' || !req.path.includes('/certificaterequests')) return undefined;
      if (req.query.get('watch') === 'true') {
        seen.watches += 1;
        return { status: 500, body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 500, reason: 'InternalError', message: 'watch broken' } };
      }
      seen.reads += 1;
      return undefined;
    });
    hooks?.certManager.setBehaviour({ delayMs: 150 });
    try {
      const issued = await provider().issue(request('polled.bookstore.cluster.local'));
      expect(opensslVerify(issued.certificatePem, target.caPem, { purpose: 'sslserver' }).output).toMatch(/: OK/);
      expect(seen.watches).toBe(1);
      // Approval and signing take 300 ms; polling every 200 ms needs more than one read.
      expect(seen.reads).toBeGreaterThanOrEqual(2);
    } finally {
      remove?.();
    }
  });

  it('reports an unreachable API server as BACKEND_UNAVAILABLE (retryable)', async () => {
    const remove = hooks?.kube.addInterceptor(() => ({ status: 503, body: { kind: 'Status', code: 503, reason: 'ServiceUnavailable', message: 'etcd is down' } }));
    try {
      const error = await providerFailure(provider().issue(request('down.bookstore.cluster.local')));
      expect(error.code).toBe('BACKEND_UNAVAILABLE');
      expect(error.retryable).toBe(true);
    } finally {
      remove?.();
    }
  });
});
