// The factory seals a server-made key from the DER the provider hands over: the key's PEM is
// neither built nor read on the way to the record (it cost a base64 pass per certificate), and
// what it seals opens, with the existing reader, to the very key the certificate certifies.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultRandom, systemClock, type KeyAlgorithm } from '@fsm-certs/core';
import { FileSecretStore, TresorProvider, type IssuedCertificate } from '@fsm-certs/providers';
import { generateKek, openPrivateKey } from '@fsm-certs/queue';
import { CertificateFactory, type IssueSpec } from './certificate-factory.js';
import { defaultRenewAt } from './renew-at.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'fsm-factory-'));
let provider: TresorProvider;
const { kek } = generateKek();

beforeAll(async () => {
  provider = await TresorProvider.start({ store: new FileSecretStore({ dataDir }) });
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function spec(commonName: string, keyAlgorithm: KeyAlgorithm): IssueSpec {
  return { commonName, dnsNames: [], uris: [], ipAddresses: [], validityMs: 24 * 3_600_000, keyAlgorithm, reason: 'request' };
}

function factory(sealKeyAsDer: boolean): CertificateFactory {
  return new CertificateFactory({ provider, kek, clock: systemClock, random: defaultRandom, renewAt: defaultRenewAt, sealKeyAsDer });
}

/** The provider's result, with its key PEM behind a getter that counts who reads it. */
async function issuedWatched(item: IssueSpec): Promise<{ issued: IssuedCertificate; pemReads: () => number }> {
  const started = await factory(true).start(item, undefined);
  if (!started.ok) throw started.error;
  const pem = started.issued.privateKeyPem;
  let reads = 0;
  const issued: IssuedCertificate = Object.defineProperty({ ...started.issued }, 'privateKeyPem', {
    enumerable: true,
    get: () => {
      reads += 1;
      return pem;
    },
  });
  return { issued, pemReads: () => reads };
}

describe('CertificateFactory sealing a server-generated key', () => {
  it.each<KeyAlgorithm>(['ecdsa-p256', 'rsa-2048'])('seals a %s key for a binary record from its DER without reading its PEM, and the envelope opens to the certified key', async (keyAlgorithm) => {
    const item = spec(`sealed-der-${keyAlgorithm}.cluster.local`, keyAlgorithm);
    const { issued, pemReads } = await issuedWatched(item);
    const write = factory(true).storeWrite(item, issued, keyAlgorithm, undefined, ['req-1']);
    expect(pemReads()).toBe(0);

    const sealed = write.record.encryptedPrivateKey ?? '';
    expect(sealed.startsWith('v2.')).toBe(true);
    const opened = openPrivateKey(kek, sealed, item.commonName, write.record.serialNumber);
    expect(opened).toBe(issued.privateKeyPem);
    expect(new X509Certificate(write.record.certificatePem).checkPrivateKey(createPrivateKey(opened))).toBe(true);
  });

  it('seals the key as its PEM (v1) for full records, which every version reads', async () => {
    const item = spec('sealed-pem.cluster.local', 'ecdsa-p256');
    const { issued, pemReads } = await issuedWatched(item);
    const write = factory(false).storeWrite(item, issued, 'ecdsa-p256', undefined, ['req-2']);
    expect(pemReads()).toBeGreaterThan(0);
    const sealed = write.record.encryptedPrivateKey ?? '';
    expect(sealed.startsWith('v1.')).toBe(true);
    expect(openPrivateKey(kek, sealed, item.commonName, write.record.serialNumber)).toBe(issued.privateKeyPem);
  });

  it('builds one write carrying the audit record and the request-unknown condition only when asked', async () => {
    const item = spec('write-extras.cluster.local', 'ecdsa-p256');
    const { issued } = await issuedWatched(item);
    const audit = { id: '1764500000000-0123456789ab', operation: 'issueCertificate', caller: 'bookstore', clientAddress: '127.0.0.1', requestId: 'req-3' } as const;
    const plain = factory(true).storeWrite(item, issued, 'ecdsa-p256', undefined, ['req-3']);
    expect(plain).not.toHaveProperty('audit');
    expect(plain).not.toHaveProperty('unlessRequestKnown');
    const guarded = factory(true).storeWrite(item, issued, 'ecdsa-p256', undefined, ['req-3'], { unlessRequestKnown: true, audit });
    expect(guarded).toMatchObject({ kind: 'store', expectSerial: null, requestIds: ['req-3'], unlessRequestKnown: true, audit });
    expect(guarded.hints?.certificateDer?.equals(issued.certificateDer ?? Buffer.alloc(0))).toBe(true);
    expect(guarded.hints?.sealedKey).toBeDefined();
  });
});
