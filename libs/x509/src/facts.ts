// The few facts a provider reads from every certificate a remote CA returns (names, dates, key
// type and size), without what inspectCertificate adds for operators: importing the public key
// into OpenSSL, fingerprints, every extension spelled out. On the Vault path that import was the
// largest CPU cost per certificate left in the ca-service.
import { commonNameOf, formatName, parseCertificateOrThrow, parseSubjectAltNames } from './parse-certificate.js';
import { certificateDer } from './pem.js';
import { publicKeyInfo } from './inspect-fields.js';
import { OID } from './der/oids.js';
import type { CertificateInfo } from './types.js';

export type CertificateFacts = Pick<CertificateInfo, 'subject' | 'issuer' | 'commonName' | 'notBefore' | 'notAfter' | 'dnsNames' | 'uris' | 'ipAddresses' | 'keyType' | 'keySize'>;

/** What inspectCertificate says of these fields, read from the DER alone (the key is not validated). */
export function certificateFacts(pem: string | Buffer): CertificateFacts {
  const cert = parseCertificateOrThrow(certificateDer(pem), 'the certificate');
  const key = publicKeyInfo(cert.spki);
  const sans = parseSubjectAltNames(cert.extensions.get(OID.subjectAltName)?.value);
  return {
    subject: formatName(cert.subject),
    issuer: formatName(cert.issuer),
    commonName: commonNameOf(cert.subject),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    dnsNames: sans.dnsNames,
    uris: sans.uris,
    ipAddresses: sans.ipAddresses,
    keyType: key.algorithm === 'id-ecPublicKey' ? 'ec' : key.algorithm === 'rsaEncryption' ? 'rsa' : 'other',
    keySize: key.algorithm === 'id-ecPublicKey' || key.algorithm === 'rsaEncryption' ? key.bits : 0,
  };
}
