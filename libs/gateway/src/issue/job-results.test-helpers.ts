// Job results as this project's ca-service writes them, for the gateway's result-check tests.
type Json = Record<string, unknown>;

export const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

export function record(): Json {
  return {
    commonName: 'bookstore.cluster.local',
    serialNumber: '4f1c0a9e',
    notBefore: '2026-11-30T12:00:00.000Z',
    notAfter: '2026-12-01T12:00:00.000Z',
    renewAt: '2026-12-01T04:00:00.000Z',
    certificatePem: PEM,
    chainPem: [],
    issuingCaPem: PEM,
    trustedCasPem: [PEM],
    issuerId: 'ab'.repeat(32),
    provider: 'tresor',
    keyAlgorithm: 'ecdsa-p256',
    mode: 'server-key',
    dnsNames: ['bookstore.cluster.local'],
    uris: [],
    ipAddresses: [],
    validityMs: 86_400_000,
    encryptedPrivateKey: 'v2.aaa.bbb.ccc',
    issuedAt: '2026-11-30T12:00:00.000Z',
    warnings: [],
  };
}

export const ID = '3b241101-e2bb-4255-8caf-4136c566a962';

export function v1(): Json {
  return {
    version: 1,
    results: [
      { requestId: ID, ok: true, certificate: record(), auditId: '1764504000000-0a1b2c3d' },
      { requestId: '9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f', ok: false, error: { code: 'NOT_AUTHORIZED', message: 'no', httpStatus: 403, retryable: false } },
    ],
  };
}

export function v2(): Json {
  const { issuingCaPem: _ca, trustedCasPem: _roots, ...compact } = record();
  return { version: 2, results: [{ requestId: ID, ok: true, certificate: compact, trustBundleDigest: 'cd'.repeat(32) }] };
}

export function v3(): Json {
  return {
    version: 3,
    results: [
      { requestId: ID, ok: true, commonName: 'bookstore.cluster.local', serialNumber: '4f1c0a9e', auditId: '1764504000000-0a1b2c3d4e5f' },
      { requestId: '9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f', ok: false, error: { code: 'NOT_AUTHORIZED', message: 'no', httpStatus: 403, retryable: false } },
    ],
  };
}
