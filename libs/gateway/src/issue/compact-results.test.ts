// Compact (v2) issue results become whole records again, from the inventory's trust bundle.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { trustBundleDigest, type CertificateRecord, type IssueJobResult, type TrustBundleRecord } from '@fsm-certs/queue';
import { TrustBundleCache, expandIssueResult, type CompactResultSource } from './compact-results.js';

const PEM = (label: string): string => `-----BEGIN CERTIFICATE-----\n${label}\n-----END CERTIFICATE-----\n`;

function bundle(label: string): TrustBundleRecord {
  const at = new Date(0).toISOString();
  return { version: 1, issuingCaPem: PEM(`${label}-issuing`), trustedCasPem: [PEM(`${label}-root`)], rootNotAfter: at, updatedAt: at };
}

function record(commonName: string, trust: TrustBundleRecord): CertificateRecord {
  const at = new Date(0).toISOString();
  return {
    commonName,
    serialNumber: 'ab12',
    notBefore: at,
    notAfter: at,
    renewAt: at,
    certificatePem: PEM(commonName),
    chainPem: [],
    issuingCaPem: trust.issuingCaPem,
    trustedCasPem: trust.trustedCasPem,
    issuerId: 'ca',
    provider: 'tresor',
    keyAlgorithm: 'ecdsa-p256',
    mode: 'server-key',
    dnsNames: [],
    uris: [],
    ipAddresses: [],
    validityMs: 60_000,
    issuedAt: at,
    warnings: [],
  };
}

function compact(whole: CertificateRecord, trust: TrustBundleRecord): IssueJobResult {
  const { issuingCaPem: _i, trustedCasPem: _t, ...rest } = whole;
  return { version: 2, results: [{ requestId: randomUUID(), ok: true, certificate: rest, trustBundleDigest: trustBundleDigest(trust.issuingCaPem, trust.trustedCasPem) }] };
}

class FakeInventory implements CompactResultSource {
  bundleReads = 0;
  constructor(
    public bundle: TrustBundleRecord | undefined,
    public records: CertificateRecord[] = [],
  ) {}
  async getTrustBundle(): Promise<TrustBundleRecord | undefined> {
    this.bundleReads += 1;
    return this.bundle;
  }
  async get(commonName: string): Promise<CertificateRecord | undefined> {
    return this.records.find((r) => r.commonName === commonName);
  }
}

describe('expandIssueResult', () => {
  it('fills the CA PEMs from the trust bundle, reading it once for many results', async () => {
    const trust = bundle('a');
    const inventory = new FakeInventory(trust);
    const cache = new TrustBundleCache(inventory);
    for (const name of ['one.local', 'two.local', 'three.local']) {
      const whole = record(name, trust);
      const [answer] = await expandIssueResult(compact(whole, trust), cache, inventory);
      expect(answer).toMatchObject({ ok: true, certificate: whole });
    }
    expect(inventory.bundleReads).toBe(1);
  });

  it('re-reads the bundle when a result names another one (the CA changed)', async () => {
    const inventory = new FakeInventory(bundle('old'));
    const cache = new TrustBundleCache(inventory);
    await expandIssueResult(compact(record('x.local', bundle('old')), bundle('old')), cache, inventory);
    inventory.bundle = bundle('new');
    const whole = record('y.local', bundle('new'));
    const [answer] = await expandIssueResult(compact(whole, bundle('new')), cache, inventory);
    expect(answer).toMatchObject({ ok: true, certificate: { issuingCaPem: PEM('new-issuing'), trustedCasPem: [PEM('new-root')] } });
    expect(inventory.bundleReads).toBe(2);
  });

  it('falls back to the stored record when the named bundle is gone, else answers 503 for that item', async () => {
    const whole = record('z.local', bundle('gone'));
    const inventory = new FakeInventory(bundle('current'), [whole]);
    const cache = new TrustBundleCache(inventory);
    const [found] = await expandIssueResult(compact(whole, bundle('gone')), cache, inventory);
    expect(found).toMatchObject({ ok: true, certificate: whole });
    inventory.records = [];
    const [missing] = await expandIssueResult(compact(whole, bundle('gone')), cache, inventory);
    expect(missing).toMatchObject({ ok: false, error: { code: 'TRUST_BUNDLE_UNAVAILABLE', httpStatus: 503, retryable: true } });
  });

  it('keeps whole records and v1 results as they are, and refuses a record with neither PEMs nor a digest', async () => {
    const trust = bundle('a');
    const inventory = new FakeInventory(trust);
    const cache = new TrustBundleCache(inventory);
    const whole = record('w.local', trust);
    const v1: IssueJobResult = { version: 1, results: [{ requestId: randomUUID(), ok: true, certificate: whole }] };
    expect(await expandIssueResult(v1, cache, inventory)).toEqual(v1.results);
    const [kept] = await expandIssueResult({ version: 2, results: [{ requestId: randomUUID(), ok: true, certificate: whole }] }, cache, inventory);
    expect(kept).toMatchObject({ ok: true, certificate: whole });
    const { issuingCaPem: _i, trustedCasPem: _t, ...bare } = whole;
    const [refused] = await expandIssueResult({ version: 2, results: [{ requestId: randomUUID(), ok: true, certificate: bare }] }, cache, inventory);
    expect(refused).toMatchObject({ ok: false, error: { httpStatus: 502 } });
    expect(inventory.bundleReads).toBe(0);
  });
});
