// Turns a Ready CertificateRequest's status into an IssuedCertificate, checking what came back:
// the leaf must certify our key and chain to a CA the mesh trusts.
import { X509Certificate, type KeyObject } from 'node:crypto';
import { fingerprintSha256, inspectCertificate, isX509Error, splitPemBundle, verifyChain } from '@fsm-certs/x509';
import { ProviderError } from '../errors.js';
import type { IssuedCertificate } from '../provider.js';

export interface AssembleInput {
  readonly requestName: string;
  readonly commonName: string;
  /** base64 PEM from status.certificate (leaf, possibly followed by intermediates). */
  readonly certificate: string;
  /** base64 PEM from status.ca, when the issuer set it. */
  readonly ca: string | undefined;
  /** CA certificates from ca.crt of the bundle Secret, when it exists. */
  readonly bundlePems: readonly string[] | undefined;
  readonly publicKey: KeyObject;
  readonly privateKeyPem: string | undefined;
  readonly warnings: readonly string[];
  readonly bundleMissing: () => ProviderError;
  readonly now: Date;
}

function failed(message: string, cause?: unknown): ProviderError {
  return new ProviderError('ISSUANCE_FAILED', message, cause === undefined ? {} : { cause });
}

function certificatesIn(base64: string, what: string): string[] {
  try {
    return splitPemBundle(Buffer.from(base64, 'base64').toString('utf8'));
  } catch (error) {
    throw failed(`${what} is not a PEM certificate bundle; check the issuer`, error);
  }
}

function uniqueByFingerprint(pems: readonly string[]): string[] {
  const seen = new Set<string>();
  return pems.filter((pem) => {
    const fingerprint = fingerprintSha256(pem);
    if (seen.has(fingerprint)) return false;
    seen.add(fingerprint);
    return true;
  });
}

export function assembleIssued(input: AssembleInput): IssuedCertificate {
  const where = `CertificateRequest ${input.requestName}`;
  const [leafPem, ...chainPem] = certificatesIn(input.certificate, `status.certificate of ${where}`);
  if (leafPem === undefined) throw failed(`status.certificate of ${where} holds no certificate; check the issuer`);
  const caPems = input.ca === undefined ? [] : certificatesIn(input.ca, `status.ca of ${where}`);
  if (caPems.length === 0 && input.bundlePems === undefined) throw input.bundleMissing();

  if (!new X509Certificate(leafPem).publicKey.equals(input.publicKey)) {
    throw failed(`The certificate in ${where} does not certify the key that was requested; the issuer returned someone else's certificate.`);
  }
  const trusted = uniqueByFingerprint([...(input.bundlePems ?? []), ...caPems]);
  try {
    verifyChain({ leafPem, intermediatesPem: chainPem, trustedRootsPem: trusted, at: input.now });
  } catch (error) {
    const detail = isX509Error(error) ? error.message : String(error);
    throw failed(
      `The certificate in ${where} does not chain to a trusted CA (${detail}). Make ca.crt in the CA bundle Secret hold the issuer's root CA.`,
      error,
    );
  }
  const issuingCaPem = caPems[0] ?? trusted[0];
  if (issuingCaPem === undefined) throw input.bundleMissing();
  const info = inspectCertificate(leafPem);
  return {
    commonName: input.commonName,
    certificatePem: leafPem,
    chainPem,
    issuingCaPem,
    trustedCasPem: trusted,
    ...(input.privateKeyPem === undefined ? {} : { privateKeyPem: input.privateKeyPem }),
    serialNumber: info.serialNumber.toLowerCase(),
    notBefore: info.notBefore,
    notAfter: info.notAfter,
    dnsNames: info.dnsNames,
    issuerId: fingerprintSha256(issuingCaPem),
    provider: 'cert-manager',
    warnings: input.warnings,
  };
}
