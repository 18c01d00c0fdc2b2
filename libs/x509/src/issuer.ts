// Loading a CA for signing, and the per-issuer constants every leaf reuses (issuer Name DER,
// AKI extension, signature AlgorithmIdentifier), computed once per Issuer object.
import { X509Certificate } from 'node:crypto';
import { OID } from './der/oids.js';
import { X509Error } from './errors.js';
import { authorityKeyIdentifierExtension } from './extensions.js';
import { importPrivateKeyPem } from './keys.js';
import { commonNameOf, parseCertificateOrThrow, parseIsCa, parseKeyIdentifier } from './parse-certificate.js';
import { derToPem, fingerprintSha256, pemToDer } from './pem.js';
import { signatureAlgorithmFor } from './signing.js';
import { keyIdentifier } from './spki.js';
import type { Issuer } from './types.js';

export interface IssuerParts {
  readonly issuerName: Buffer;
  readonly authorityKeyIdentifier: Buffer;
  readonly signatureAlgorithm: Buffer;
}

const partsCache = new WeakMap<Issuer, IssuerParts>();

function computeParts(issuer: Issuer): IssuerParts {
  const parsed = parseCertificateOrThrow(issuer.certificateDer, 'the issuer certificate', 500);
  const keyId = parseKeyIdentifier(parsed.extensions.get(OID.subjectKeyIdentifier)?.value, false) ?? keyIdentifier(parsed.spki);
  return {
    issuerName: parsed.subject.der,
    authorityKeyIdentifier: authorityKeyIdentifierExtension(keyId),
    signatureAlgorithm: signatureAlgorithmFor(issuer.keyAlgorithm),
  };
}

export function issuerParts(issuer: Issuer): IssuerParts {
  let parts = partsCache.get(issuer);
  if (parts === undefined) {
    parts = computeParts(issuer);
    partsCache.set(issuer, parts);
  }
  return parts;
}

function withContext(error: unknown, what: string): unknown {
  if (error instanceof X509Error) return new X509Error(error.code, `${what}: ${error.message}`, { cause: error, httpStatus: 500 });
  return error;
}

/**
 * A CA ready to sign: certificate + PKCS#8/SEC1/PKCS#1 key. Refuses a key that does not belong
 * to the certificate, a certificate that is not a CA, and an expired CA, each saying what to fix.
 */
export function loadIssuer(certificatePem: string, privateKeyPem: string, now: Date = new Date()): Issuer {
  let der: Buffer;
  try {
    der = pemToDer(certificatePem);
  } catch (error) {
    throw withContext(error, 'CA certificate (ca.crt)');
  }
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(der);
  } catch (cause) {
    throw new X509Error('INVALID_PEM', 'CA certificate (ca.crt) cannot be parsed as X.509; replace it with the complete PEM of the CA certificate', { cause, httpStatus: 500 });
  }
  const parsed = parseCertificateOrThrow(der, 'CA certificate (ca.crt)', 500);
  let keyPair;
  try {
    keyPair = importPrivateKeyPem(privateKeyPem);
  } catch (error) {
    throw withContext(error, 'CA private key (private.key)');
  }
  const subjectCommonName = commonNameOf(parsed.subject) ?? '';
  if (!x509.checkPrivateKey(keyPair.privateKey)) {
    throw new X509Error(
      'KEY_MISMATCH',
      `the CA private key does not belong to the CA certificate "${subjectCommonName}"; store the matching key, or delete the CA bundle so a new root is generated`,
    );
  }
  if (!parseIsCa(parsed.extensions.get(OID.basicConstraints)?.value)) {
    throw new X509Error('INVALID_PEM', `the certificate "${subjectCommonName}" is not a CA (BasicConstraints CA:TRUE is missing); provide a CA certificate`, { httpStatus: 500 });
  }
  if (now.getTime() >= parsed.notAfter.getTime()) {
    throw new X509Error(
      'CA_EXPIRED',
      `the CA certificate "${subjectCommonName}" expired at ${parsed.notAfter.toISOString()}; rotate the root (or delete the CA bundle so a new root is generated) and restart`,
    );
  }
  return {
    certificatePem: derToPem(der),
    certificateDer: der,
    privateKey: keyPair.privateKey,
    keyAlgorithm: keyPair.algorithm,
    subjectCommonName,
    notBefore: parsed.notBefore,
    notAfter: parsed.notAfter,
    fingerprint: fingerprintSha256(der),
  };
}
