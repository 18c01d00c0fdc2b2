// Compact (v2) issue results become whole records again, from the inventory's trust bundle; v3
// results, from the records they name.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { trustBundleDigest, UnreadableRecordError, type CertificateRecord, type IssueJobResult, type StoredName, type StoredRead, type TrustBundleRecord } from '@fsm-certs/queue';
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
  readonly storedReads: Array<readonly StoredName[]> = [];
  async readStored(names: readonly StoredName[]): Promise<StoredRead[]> {
    this.storedReads.push(names);
    return names.map(({ commonName, serialNumber }): StoredRead => {
      const held = this.records.find((r) => r.commonName === commonName);
      if (held === undefined || held.serialNumber !== serialNumber) return { kind: 'changed', currentSerial: held?.serialNumber };
      if (held.certificatePem === '') return { kind: 'unreadable', error: new UnreadableRecordError(commonName, serialNumber, 'its certificate is empty') };
      return { kind: 'stored', record: held };
    });
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

  it('answers a v3 result from the records it names, read in one call, and only with the named serial', async () => {
    const trust = bundle('a');
    const stored = record('stored.local', trust);
    const renewed = { ...record('renewed.local', trust), serialNumber: 'cd34' };
    const damaged = { ...record('damaged.local', trust), certificatePem: '' };
    const inventory = new FakeInventory(trust, [stored, renewed, damaged]);
    const ids = Array.from({ length: 5 }, () => randomUUID());
    const failure = { code: 'INVALID_REQUEST', message: 'bad', httpStatus: 400, retryable: false };
    const result: IssueJobResult = {
      version: 3,
      results: [
        { requestId: ids[0] ?? '', ok: true, commonName: 'stored.local', serialNumber: 'ab12', auditId: '1764504000000-0a1b2c3d4e5f' },
        { requestId: ids[1] ?? '', ok: true, commonName: 'renewed.local', serialNumber: 'ab12' },
        { requestId: ids[2] ?? '', ok: true, commonName: 'released.local', serialNumber: 'ab12' },
        { requestId: ids[3] ?? '', ok: true, commonName: 'damaged.local', serialNumber: 'ab12' },
        { requestId: ids[4] ?? '', ok: false, error: failure },
      ],
    };
    const answers = await expandIssueResult(result, new TrustBundleCache(inventory), inventory);
    const changed = { ok: false, error: { code: 'CERTIFICATE_CHANGED', httpStatus: 503, retryable: true } };
    expect(answers).toMatchObject([
      { requestId: ids[0], ok: true, certificate: stored },
      { requestId: ids[1], ...changed },
      { requestId: ids[2], ...changed },
      { requestId: ids[3], ok: false, error: { code: 'RECORD_UNREADABLE', httpStatus: 500, retryable: false } },
      { requestId: ids[4], ok: false, error: failure },
    ]);
    expect(inventory.storedReads).toHaveLength(1);
    expect(inventory.bundleReads).toBe(0);
    // A job whose items all failed reads nothing.
    await expandIssueResult({ version: 3, results: [{ requestId: randomUUID(), ok: false, error: failure }] }, new TrustBundleCache(inventory), inventory);
    expect(inventory.storedReads).toHaveLength(1);
  });
});
