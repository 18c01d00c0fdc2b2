// Keys, CSRs and the checks a certificate passes before it is written: it belongs to the key
// the agent holds, it is the name asked for, and it chains to a root of the trust bundle that
// goes into ca.pem with it. A certificate failing any check is never written.
import { createPrivateKey, generateKeyPair as generateKeyPairCallback, X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';
import { RSA_PUBLIC_EXPONENT, rsaModulusBits, type KeyAlgorithm } from '@fsm-certs/core';
import { createCsr, exportPrivateKeyPem, inspectCertificate, splitPemBundle, verifyChain, type KeyPair } from '@fsm-certs/x509';
import { AgentError } from './errors.js';
import type { CertificateFiles } from './files/layout.js';

const generateKeyPairAsync = promisify(generateKeyPairCallback);

/** What the agent serves: the files of the current snapshot, parsed. */
export interface Installed {
  readonly commonName: string;
  /** The leaf alone. */
  readonly certificatePem: string;
  /** Intermediates between the leaf and the root (empty with Tresor). */
  readonly chainPems: readonly string[];
  readonly keyPem: string;
  /** The trust bundle as written to ca.pem. */
  readonly trustedCaPems: readonly string[];
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The gateway's renewAt; undefined for files found at start that the gateway has not confirmed. */
  readonly renewAt: Date | undefined;
}

/** A fresh key pair on the thread pool (an RSA key takes long enough to stall /healthz otherwise). */
export async function generateLeafKey(algorithm: KeyAlgorithm): Promise<KeyPair> {
  const bits = rsaModulusBits(algorithm);
  const { privateKey, publicKey } =
    bits === undefined
      ? await generateKeyPairAsync('ec', { namedCurve: 'prime256v1' })
      : await generateKeyPairAsync('rsa', { modulusLength: bits, publicExponent: RSA_PUBLIC_EXPONENT });
  return { algorithm, privateKey, publicKey };
}

/** A CSR carrying only the key: the gateway takes the identity from the request, never from the CSR. */
export function csrFor(commonName: string, keyPair: KeyPair): { csrPem: string; keyPem: string } {
  return { csrPem: createCsr({ commonName, keyPair }), keyPem: exportPrivateKeyPem(keyPair.privateKey) };
}

export function keyMatchesCertificate(keyPem: string, certificatePem: string): boolean {
  try {
    return new X509Certificate(certificatePem).checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

/** True when `caPem` signed `certificatePem` (name and signature). */
export function issuedBy(certificatePem: string, caPem: string): boolean {
  try {
    const cert = new X509Certificate(certificatePem);
    const ca = new X509Certificate(caPem);
    return cert.checkIssued(ca) && cert.verify(ca.publicKey);
  } catch {
    return false;
  }
}

export function chainsTo(leafPem: string, chainPems: readonly string[], rootPems: readonly string[], at: Date): boolean {
  try {
    verifyChain({ leafPem, intermediatesPem: [...chainPems], trustedRootsPem: [...rootPems], at });
    return true;
  } catch {
    return false;
  }
}

function ensureNewline(pem: string): string {
  return pem.endsWith('\n') ? pem : `${pem}\n`;
}

export function filesOf(installed: Installed): CertificateFiles {
  return {
    cert: [installed.certificatePem, ...installed.chainPems].map(ensureNewline).join(''),
    key: ensureNewline(installed.keyPem),
    ca: installed.trustedCaPems.map(ensureNewline).join(''),
  };
}

export interface Candidate {
  readonly commonName: string;
  readonly certificatePem: string;
  readonly chainPems: readonly string[];
  readonly keyPem: string;
  readonly renewAt: Date | undefined;
}

/**
 * The checks every certificate passes before it is written; returns what will be installed.
 * Throws CERTIFICATE_KEY_MISMATCH or CERTIFICATE_UNTRUSTED (naming the serial, never the key).
 */
export function admit(candidate: Candidate, expectedName: string, trustedCaPems: readonly string[], at: Date): Installed {
  const info = inspectCertificate(candidate.certificatePem);
  if (candidate.commonName.toLowerCase() !== expectedName.toLowerCase()) {
    throw new AgentError('UNEXPECTED_RESPONSE', `the gateway answered for "${candidate.commonName}" when "${expectedName}" was asked for; not written`);
  }
  if (!keyMatchesCertificate(candidate.keyPem, candidate.certificatePem)) {
    throw new AgentError('CERTIFICATE_KEY_MISMATCH', `certificate ${info.serialNumber} for ${expectedName} does not belong to the agent's key; not written`);
  }
  try {
    verifyChain({ leafPem: candidate.certificatePem, intermediatesPem: [...candidate.chainPems], trustedRootsPem: [...trustedCaPems], at });
  } catch (error) {
    throw new AgentError(
      'CERTIFICATE_UNTRUSTED',
      `certificate ${info.serialNumber} for ${expectedName} does not chain to the trust bundle (${(error as Error).message}); not written, so no peer is handed a certificate it cannot verify`,
      { cause: error },
    );
  }
  return {
    commonName: expectedName,
    certificatePem: candidate.certificatePem,
    chainPems: candidate.chainPems,
    keyPem: candidate.keyPem,
    trustedCaPems,
    serialNumber: info.serialNumber,
    notBefore: info.notBefore,
    notAfter: info.notAfter,
    renewAt: candidate.renewAt,
  };
}

/** The files found in the directory at start, if they form a usable set (the key matches the leaf). */
export function installedFromFiles(files: CertificateFiles, expectedName: string): Installed | undefined {
  try {
    return parseFiles(files, expectedName);
  } catch {
    return undefined;
  }
}

/** Serial numbers as the gateway and openssl may spell them: any case, colons, leading zeros. */
export function sameSerial(a: string, b: string): boolean {
  const norm = (s: string): string => s.replace(/:/g, '').toLowerCase().replace(/^0+/, '');
  return norm(a) === norm(b);
}

function parseFiles(files: CertificateFiles, expectedName: string): Installed | undefined {
  const certs = splitPemBundle(files.cert);
  const [leaf, ...chain] = certs;
  const roots = splitPemBundle(files.ca);
  if (leaf === undefined || roots.length === 0 || !keyMatchesCertificate(files.key, leaf)) return undefined;
  const info = inspectCertificate(leaf);
  if (info.commonName?.toLowerCase() !== expectedName.toLowerCase()) return undefined;
  return {
    commonName: expectedName,
    certificatePem: leaf,
    chainPems: chain,
    keyPem: files.key,
    trustedCaPems: roots,
    serialNumber: info.serialNumber,
    notBefore: info.notBefore,
    notAfter: info.notAfter,
    renewAt: undefined,
  };
}
