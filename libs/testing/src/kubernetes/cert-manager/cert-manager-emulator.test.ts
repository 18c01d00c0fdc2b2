import { ApiException, CustomObjectsApi, Watch } from '@kubernetes/client-node';
import { createCsr, createRootCa, generateKeyPair, type RootCa } from '@fsm-certs/x509';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KubernetesEmulator } from '../emulator.js';
import { CertManagerEmulator } from './cert-manager-emulator.js';
import { opensslCsr, opensslText, opensslVerify } from '../../openssl/openssl.js';
import { eventually } from '../../eventually.js';

const NS = 'fsm-system';
const GROUP = 'cert-manager.io';
let kube: KubernetesEmulator;
let certManager: CertManagerEmulator;
let api: CustomObjectsApi;
let root: RootCa;

beforeAll(async () => {
  kube = await KubernetesEmulator.start();
  certManager = CertManagerEmulator.install(kube, { behaviour: { delayMs: 1 } });
  api = kube.kubeConfig().makeApiClient(CustomObjectsApi);
  root = createRootCa();
  certManager.createCaIssuer({ name: 'fsm-ca', namespace: NS, ca: root });
  certManager.createCaIssuer({ name: 'mesh-cluster-ca', kind: 'ClusterIssuer', ca: root });
  certManager.createAcmeIssuer({ name: 'letsencrypt', namespace: NS });
});
afterEach(() => certManager.resetBehaviour());
afterAll(async () => {
  certManager.stop();
  await kube.close();
});

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}
interface RequestObject {
  metadata: { name: string; resourceVersion: string; labels?: Record<string, string> };
  spec: Record<string, unknown>;
  status?: { conditions?: Condition[]; certificate?: string; ca?: string; failureTime?: string };
}

function meshCsr(commonName: string): string {
  return createCsr({ commonName, dnsNames: [commonName], keyPair: generateKeyPair() });
}

function requestBody(csrPem: string, spec: Record<string, unknown> = {}, annotations: Record<string, string> = {}): Record<string, unknown> {
  return {
    apiVersion: 'cert-manager.io/v1',
    kind: 'CertificateRequest',
    metadata: { generateName: 'fsm-', annotations },
    spec: {
      request: Buffer.from(csrPem).toString('base64'),
      issuerRef: { name: 'fsm-ca', kind: 'Issuer', group: GROUP },
      duration: '24h0m0s',
      usages: ['digital signature', 'key encipherment', 'server auth', 'client auth'],
      isCA: false,
      ...spec,
    },
  };
}

async function create(body: Record<string, unknown>, namespace = NS): Promise<RequestObject> {
  return (await api.createNamespacedCustomObject({ group: GROUP, version: 'v1', namespace, plural: 'certificaterequests', body })) as RequestObject;
}

async function get(name: string, namespace = NS): Promise<RequestObject> {
  return (await api.getNamespacedCustomObject({ group: GROUP, version: 'v1', namespace, plural: 'certificaterequests', name })) as RequestObject;
}

/** Polls until `done` holds for the request. */
async function until(name: string, done: (request: RequestObject) => boolean, namespace = NS): Promise<RequestObject> {
  return eventually(
    async () => {
      const request = await get(name, namespace);
      return done(request) ? request : undefined;
    },
    20_000,
    `CertificateRequest ${name} to reach the expected state`,
    10,
  );
}

const condition = (request: RequestObject, type: string): Condition | undefined => request.status?.conditions?.find((c) => c.type === type);
const isReady = (request: RequestObject): boolean => condition(request, 'Ready')?.status === 'True';
const isFinalFalse = (request: RequestObject): boolean => ['Failed', 'Denied'].includes(condition(request, 'Ready')?.reason ?? '');
const decode = (value: string | undefined): string => Buffer.from(value ?? '', 'base64').toString('utf8');

async function statusError(promise: Promise<unknown>): Promise<{ code: number; body: { reason?: string; message?: string; details?: { causes?: { field: string; reason: string }[] } } }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiException) return { code: error.code, body: typeof error.body === 'string' ? JSON.parse(error.body) : error.body };
    throw error;
  }
  throw new Error('expected the API call to fail');
}

describe('cert-manager emulator: CertificateRequest API', () => {
  it('names a request from generateName and issues it through approval, openssl-verifiable against status.ca', async () => {
    const created = await create(requestBody(meshCsr('bookstore.bookstore.cluster.local')));
    expect(created.metadata.name).toMatch(/^fsm-[a-z0-9]{5}$/);
    const ready = await until(created.metadata.name, isReady);
    expect(condition(ready, 'Approved')).toMatchObject({ status: 'True', reason: 'cert-manager.io' });
    expect(condition(ready, 'Ready')).toMatchObject({ status: 'True', reason: 'Issued' });
    const leaf = decode(ready.status?.certificate);
    expect(decode(ready.status?.ca)).toBe(root.certificatePem);
    expect(opensslVerify(leaf, root.certificatePem, { purpose: 'sslserver' }).output).toMatch(/: OK/);
    expect(opensslVerify(leaf, root.certificatePem, { purpose: 'sslclient' }).output).toMatch(/: OK/);
    const text = opensslText(leaf);
    expect(text).toContain('DNS:bookstore.bookstore.cluster.local');
    expect(text).toMatch(/Digital Signature, Key Encipherment/);
    expect(text).toMatch(/TLS Web Server Authentication, TLS Web Client Authentication/);
  });

  it('honours spec.duration in the certificate it signs', async () => {
    const asked = Date.now();
    const created = await create(requestBody(meshCsr('short.ns.cluster.local'), { duration: '1h30m0s' }));
    const ready = await until(created.metadata.name, isReady);
    const answered = Date.now();
    const text = opensslText(decode(ready.status?.certificate));
    const notBefore = Date.parse(/Not Before: (.+)/.exec(text)?.[1] ?? '');
    const notAfter = Date.parse(/Not After : (.+)/.exec(text)?.[1] ?? '');
    // issueLeaf backdates notBefore a little for clock skew; the end is 90 minutes after it was
    // signed (to the second), which happened between asking and the answer.
    expect(notAfter).toBeGreaterThanOrEqual(Math.floor((asked + 90 * 60_000) / 1000) * 1000);
    expect(notAfter).toBeLessThanOrEqual(answered + 90 * 60_000);
    expect(notAfter).toBeGreaterThan(notBefore);
  });

  it('honours usages and isCA outside the mesh default (CA:TRUE, keyCertSign, only serverAuth)', async () => {
    const created = await create(requestBody(meshCsr('sub-ca.example'), { usages: ['digital signature', 'server auth'], isCA: true }));
    const ready = await until(created.metadata.name, isReady);
    const text = opensslText(decode(ready.status?.certificate));
    expect(text).toContain('CA:TRUE');
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Certificate Sign/);
    expect(text).toMatch(/X509v3 Extended Key Usage:\s+TLS Web Server Authentication\s*\n/);
    expect(opensslVerify(decode(ready.status?.certificate), root.certificatePem).output).toMatch(/: OK/);
  });

  it('answers 422 Invalid with the offending fields for a missing request, issuerRef.name or an unknown usage', async () => {
    const body = requestBody(meshCsr('x.example'), { request: undefined, issuerRef: { kind: 'Issuer' }, usages: ['server auth', 'teleport'] });
    const { code, body: status } = await statusError(create(body));
    expect(code).toBe(422);
    expect(status.reason).toBe('Invalid');
    expect(status.details?.causes?.map((cause) => `${cause.field}:${cause.reason}`)).toEqual([
      'spec.request:FieldValueRequired',
      'spec.issuerRef.name:FieldValueRequired',
      'spec.usages[1]:FieldValueNotSupported',
    ]);
    expect(status.message).toContain('Unsupported value: "teleport"');
  });

  it('refuses to change spec after creation (422) but lets labels change', async () => {
    // No approver runs for this request, so nothing else moves its resourceVersion meanwhile.
    const created = await create(requestBody(meshCsr('immutable.example'), {}, { 'emulator.fsm-certs.io/approval': 'ignore' }));
    const replace = (body: RequestObject): Promise<unknown> =>
      api.replaceNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: NS, plural: 'certificaterequests', name: created.metadata.name, body });
    const { code, body } = await statusError(replace({ ...created, spec: { ...created.spec, duration: '48h0m0s' } }));
    expect(code).toBe(422);
    expect(body.message).toContain('spec: Forbidden: field is immutable');
    const relabelled = (await replace({ ...created, metadata: { ...created.metadata, labels: { team: 'mesh' } } })) as RequestObject;
    expect(relabelled.metadata.labels).toEqual({ team: 'mesh' });
    expect(relabelled.spec).toEqual(created.spec);
  });

  it('streams only the named request to a watch with fieldSelector=metadata.name', async () => {
    const first = await create(requestBody(meshCsr('watched.example'), {}, { 'emulator.fsm-certs.io/signing': 'stall' }));
    const seen: string[] = [];
    let deleted: () => void = () => undefined;
    const gone = new Promise<void>((resolve) => (deleted = resolve));
    const controller = await new Watch(kube.kubeConfig()).watch(
      `/apis/${GROUP}/v1/namespaces/${NS}/certificaterequests`,
      { fieldSelector: `metadata.name=${first.metadata.name}` },
      (type, object: RequestObject) => {
        seen.push(`${type}:${object.metadata.name}`);
        if (type === 'DELETED') deleted();
      },
      () => undefined,
    );
    await create(requestBody(meshCsr('other.example')));
    await api.deleteNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: NS, plural: 'certificaterequests', name: first.metadata.name });
    // Events come in order: anything about the other request would have come before this one.
    await gone;
    controller.abort();
    expect(new Set(seen.map((entry) => entry.split(':')[1]))).toEqual(new Set([first.metadata.name]));
    expect(seen.at(-1)).toBe(`DELETED:${first.metadata.name}`);
  });
});

describe('cert-manager emulator: simulated approver and CA issuer', () => {
  it('denies when told: Denied=True, then Ready=False reason Denied with a failureTime', async () => {
    certManager.setBehaviour({ approval: 'deny' });
    const created = await create(requestBody(meshCsr('denied.example')));
    const done = await until(created.metadata.name, isFinalFalse);
    expect(condition(done, 'Denied')).toMatchObject({ status: 'True', message: 'Denied by the emulated approver (test hook)' });
    expect(condition(done, 'Ready')).toMatchObject({ status: 'False', reason: 'Denied' });
    expect(done.status?.failureTime).toMatch(/Z$/);
    expect(done.status?.certificate).toBeUndefined();
  });

  it('fails when told: Ready=False reason Failed', async () => {
    const created = await create(requestBody(meshCsr('failed.example'), {}, { 'emulator.fsm-certs.io/signing': 'fail' }));
    const done = await until(created.metadata.name, isFinalFalse);
    expect(condition(done, 'Approved')?.status).toBe('True');
    expect(condition(done, 'Ready')).toMatchObject({ status: 'False', reason: 'Failed' });
  });

  it('omits status.ca when told', async () => {
    certManager.setBehaviour({ omitCa: true });
    const created = await create(requestBody(meshCsr('no-ca.example')));
    const ready = await until(created.metadata.name, isReady);
    expect(ready.status?.ca).toBeUndefined();
    expect(ready.status?.certificate).toBeDefined();
  });

  it.each([
    [
      'the usual mTLS CSR (digitalSignature; serverAuth, clientAuth) against the four mesh usages',
      ['keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth,clientAuth'],
      { usages: ['digital signature', 'key encipherment', 'server auth', 'client auth'] },
      "encoded CSR error: the KeyUsages [ 'digital signature' ] do not match the expected KeyUsages [ 'digital signature', 'key encipherment' ]",
    ],
    [
      'the same ExtKeyUsages in another order',
      ['keyUsage=critical,digitalSignature', 'extendedKeyUsage=clientAuth,serverAuth'],
      { usages: ['digital signature', 'server auth', 'client auth'] },
      "encoded CSR error: the ExtKeyUsages [ 'client auth', 'server auth' ] do not match the expected ExtKeyUsages [ 'server auth', 'client auth' ]",
    ],
    [
      'an ExtKeyUsage-only CSR against usages with a KeyUsage',
      ['extendedKeyUsage=serverAuth,clientAuth'],
      { usages: ['digital signature', 'server auth', 'client auth'] },
      "encoded CSR error: the KeyUsages [] do not match the expected KeyUsages [ 'digital signature' ]",
    ],
    [
      'a CA CSR for a leaf request',
      ['basicConstraints=critical,CA:TRUE'],
      { isCA: false },
      'encoded CSR error: IsCA true does not match expected value false',
    ],
  ] as const)("denies at admission, as cert-manager's webhook does: %s", async (_name, extensions, spec, reason) => {
    const before = certManager.listCertificateRequests(NS).length;
    const { code, body } = await statusError(create(requestBody(opensslCsr('mismatch.example', [...extensions]), { ...spec })));
    expect({ code, reason: body.reason }).toEqual({ code: 403, reason: 'Forbidden' });
    expect(body.message).toMatch(/^admission webhook "webhook\.cert-manager\.io" denied the request: spec\.request: Invalid value: \[\]byte\{0x2d, 0x2d, 0x2d, 0x2d, 0x2d, 0x42, /);
    expect(body.message?.endsWith(`}: ${reason}`)).toBe(true);
    expect(certManager.listCertificateRequests(NS)).toHaveLength(before);
  });

  it('admits and signs a CSR whose usages spec.usages repeats, in any spelling of digital signature', async () => {
    const csr = opensslCsr('honoured.example', ['keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth,clientAuth']);
    const created = await create(requestBody(csr, { usages: ['signing', 'server auth', 'client auth'] }));
    const ready = await until(created.metadata.name, isReady);
    expect(opensslVerify(decode(ready.status?.certificate), root.certificatePem, { purpose: 'sslserver' }).output).toMatch(/: OK/);
  });

  it('signs an openssl-made CSR whose extensions agree with spec.usages', async () => {
    const csr = opensslCsr('agree.example', ['keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=serverAuth,clientAuth']);
    const created = await create(requestBody(csr));
    const ready = await until(created.metadata.name, isReady);
    expect(opensslVerify(decode(ready.status?.certificate), root.certificatePem, { purpose: 'sslclient' }).output).toMatch(/: OK/);
  });

  it('signs an EC leaf asked for with digitalSignature only, and keyEncipherment only when spec.usages asks for it (as cert-manager does)', async () => {
    const ec = await create(requestBody(meshCsr('ec-only.example'), { usages: ['digital signature', 'server auth', 'client auth'] }));
    const ecText = opensslText(decode((await until(ec.metadata.name, isReady)).status?.certificate));
    expect(ecText).toMatch(/X509v3 Key Usage: critical\s+Digital Signature\s*\n/);
    // cert-manager does not look at the key type: the usages asked for are the usages signed.
    const asked = await create(requestBody(meshCsr('ec-ke.example'), { usages: ['digital signature', 'key encipherment', 'server auth', 'client auth'] }));
    const askedText = opensslText(decode((await until(asked.metadata.name, isReady)).status?.certificate));
    expect(askedText).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment\s*\n/);
  });

  it.each([
    [
      'an ExtKeyUsage without a KeyUsage (its KeyUsages count as none)',
      ['extendedKeyUsage=serverAuth,clientAuth'],
      {},
      "the KeyUsages [] do not match the expected KeyUsages [ 'digital signature', 'key encipherment' ]",
    ],
    [
      'the ExtKeyUsages in another order than spec.usages',
      ['keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=clientAuth,serverAuth'],
      {},
      "the ExtKeyUsages [ 'client auth', 'server auth' ] do not match the expected ExtKeyUsages [ 'server auth', 'client auth' ]",
    ],
    [
      'a CA request whose KeyUsage lacks keyCertSign',
      ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth'],
      { usages: ['digital signature', 'server auth'], isCA: true },
      "the KeyUsages [ 'digital signature' ] do not match the expected KeyUsages [ 'digital signature', 'cert sign' ]",
    ],
    [
      'a CSR whose BasicConstraints disagree with spec.isCA',
      ['basicConstraints=critical,CA:TRUE'],
      {},
      'IsCA true does not match expected value false',
    ],
  ] as const)("refuses at admission as cert-manager's webhook does %s", async (_name, extensions, spec, message) => {
    const before = certManager.listCertificateRequests(NS).length;
    const { code, body } = await statusError(create(requestBody(opensslCsr('strict.example', [...extensions]), { ...spec })));
    expect({ code, reason: body.reason }).toEqual({ code: 403, reason: 'Forbidden' });
    expect(body.message?.endsWith(`}: encoded CSR error: ${message}`)).toBe(true);
    expect(certManager.listCertificateRequests(NS)).toHaveLength(before);
  });

  it('signs for a ClusterIssuer with the CA Secret from the cluster resource namespace', async () => {
    const created = await create(requestBody(meshCsr('cluster.example'), { issuerRef: { name: 'mesh-cluster-ca', kind: 'ClusterIssuer', group: GROUP } }), 'team-a');
    const ready = await until(created.metadata.name, isReady, 'team-a');
    expect(opensslVerify(decode(ready.status?.certificate), decode(ready.status?.ca)).output).toMatch(/: OK/);
  });

  it('leaves requests for an ACME issuer or a missing issuer Pending, saying why', async () => {
    const acme = await create(requestBody(meshCsr('acme.example'), { issuerRef: { name: 'letsencrypt', kind: 'Issuer', group: GROUP } }));
    const missing = await create(requestBody(meshCsr('missing.example'), { issuerRef: { name: 'nope', kind: 'Issuer', group: GROUP } }));
    const acmeState = await until(acme.metadata.name, (r) => condition(r, 'Ready') !== undefined);
    const missingState = await until(missing.metadata.name, (r) => condition(r, 'Ready') !== undefined);
    expect(condition(acmeState, 'Ready')).toMatchObject({ status: 'False', reason: 'Pending' });
    expect(condition(missingState, 'Ready')?.message).toBe('Referenced "Issuer" not found: issuers.cert-manager.io "nope" not found');
  });

  it('signs a request that waited on a missing CA key pair once the Secret is created, as the issuer re-sync does', async () => {
    await api.createNamespacedCustomObject({
      group: GROUP,
      version: 'v1',
      namespace: NS,
      plural: 'issuers',
      body: { apiVersion: 'cert-manager.io/v1', kind: 'Issuer', metadata: { name: 'late-ca' }, spec: { ca: { secretName: 'late-ca-key-pair' } } },
    });
    const created = await create(requestBody(meshCsr('late.example'), { issuerRef: { name: 'late-ca', kind: 'Issuer', group: GROUP } }));
    const waiting = await until(created.metadata.name, (r) => condition(r, 'Ready') !== undefined);
    expect(condition(waiting, 'Ready')).toMatchObject({ status: 'False', reason: 'Pending' });
    kube.store.create(kube.secrets, NS, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'late-ca-key-pair', namespace: NS },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': Buffer.from(root.certificatePem).toString('base64'), 'tls.key': Buffer.from(root.privateKeyPem).toString('base64') },
    });
    const ready = await until(created.metadata.name, isReady);
    expect(opensslVerify(decode(ready.status?.certificate), root.certificatePem).output).toMatch(/: OK/);
  });

  it('validates Issuers: a CA issuer needs spec.ca.secretName', async () => {
    const { code, body } = await statusError(
      api.createNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: NS, plural: 'issuers', body: { apiVersion: 'cert-manager.io/v1', kind: 'Issuer', metadata: { name: 'broken' }, spec: { ca: {} } } }),
    );
    expect(code).toBe(422);
    expect(body.details?.causes?.[0]?.field).toBe('spec.ca.secretName');
  });
});
