// The usage extensions a CSR requests, read from CSRs openssl made (an independent encoder).
import { afterAll, describe, expect, it } from 'vitest';
import { readCsrRequestedExtensions } from './csr-extensions.js';
import { createCsr } from './csr.js';
import { generateKeyPair } from './keys.js';
import { openssl, TempDir } from './openssl.test-helpers.js';

const temp = new TempDir();
afterAll(() => temp.remove());

function opensslCsr(addext: readonly string[], keyType: 'ec' | 'rsa' = 'ec'): string {
  const key = temp.write(`${keyType}-${addext.length}-${Math.random().toString(36).slice(2)}.key`, '');
  const newkey = keyType === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'] : ['-newkey', 'rsa:2048'];
  const result = openssl(['req', '-new', ...newkey, '-nodes', '-keyout', key, '-subj', '/CN=bookstore.bookstore.cluster.local', ...addext.flatMap((e) => ['-addext', e])]);
  expect(result.status, result.stderr).toBe(0);
  return result.stdout;
}

describe('reading the usage extensions a CSR requests', () => {
  it('reads the usual mTLS request: digitalSignature, serverAuth then clientAuth', () => {
    expect(readCsrRequestedExtensions(opensslCsr(['keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth,clientAuth']))).toEqual({
      keyUsage: ['digitalSignature'],
      extKeyUsageOids: ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'],
      isCA: undefined,
    });
  });

  it('keeps the ExtKeyUsage order of the CSR and every KeyUsage bit', () => {
    const csr = opensslCsr(['keyUsage=digitalSignature,keyEncipherment,keyAgreement,decipherOnly', 'extendedKeyUsage=clientAuth,serverAuth,1.2.3.4'], 'rsa');
    expect(readCsrRequestedExtensions(csr)).toEqual({
      keyUsage: ['digitalSignature', 'keyEncipherment', 'keyAgreement', 'decipherOnly'],
      extKeyUsageOids: ['1.3.6.1.5.5.7.3.2', '1.3.6.1.5.5.7.3.1', '1.2.3.4'],
      isCA: undefined,
    });
  });

  it('reads BasicConstraints cA', () => {
    expect(readCsrRequestedExtensions(opensslCsr(['basicConstraints=critical,CA:TRUE'])).isCA).toBe(true);
    expect(readCsrRequestedExtensions(opensslCsr(['basicConstraints=CA:FALSE'])).isCA).toBe(false);
  });

  it('says undefined for what a CSR does not request (ours carry only SANs)', () => {
    const csr = createCsr({ commonName: 'a.example', dnsNames: ['a.example'], keyPair: generateKeyPair() });
    expect(readCsrRequestedExtensions(csr)).toEqual({ keyUsage: undefined, extKeyUsageOids: undefined, isCA: undefined });
  });
});
