// Public types of libs/x509. Other libs code against these; keep them stable.
// Key algorithms (KeyAlgorithm, KEY_ALGORITHMS, ...) are @fsm-certs/core's; import them from there.
import type { KeyObject } from 'node:crypto';
import type { KeyAlgorithm } from '@fsm-certs/core';

export interface KeyPair {
  readonly algorithm: KeyAlgorithm;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** Subject alternative names of a certificate or CSR. The CN is always added as a DNS SAN by issueLeaf. */
export interface SubjectAltNames {
  readonly dnsNames: readonly string[];
  readonly uris: readonly string[];
  readonly ipAddresses: readonly string[];
}

export interface ParsedCsr extends SubjectAltNames {
  readonly pem: string;
  readonly commonName: string | undefined;
  readonly publicKey: KeyObject;
  readonly keyAlgorithm: KeyAlgorithm;
}

/** A CA that can sign: its certificate plus its private key. Built by loadIssuer(); the key is pre-parsed. */
export interface Issuer {
  readonly certificatePem: string;
  readonly certificateDer: Buffer;
  readonly privateKey: KeyObject;
  readonly keyAlgorithm: KeyAlgorithm;
  readonly subjectCommonName: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** SHA-256 fingerprint of the CA certificate, lowercase hex without colons: a stable issuer id. */
  readonly fingerprint: string;
}

export interface RootCaOptions {
  readonly commonName?: string; // default 'fsm-ca.flomesh.io'
  /** default 'Flomesh Service Mesh'; null: no O attribute (a subject of the common name alone, as Vault's roots). */
  readonly organization?: string | null;
  readonly validityMs?: number; // default 87600h
  readonly keyAlgorithm?: KeyAlgorithm; // default ecdsa-p256
  readonly now?: Date;
  /** Randomness for the serial number; default crypto.randomBytes. For tests. */
  readonly randomBytes?: (size: number) => Buffer;
}

export interface RootCa {
  readonly certificatePem: string;
  /** PKCS#8 PEM. */
  readonly privateKeyPem: string;
  readonly issuer: Issuer;
}

export interface LeafOptions {
  readonly commonName: string;
  readonly dnsNames?: readonly string[];
  readonly uris?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly validityMs: number;
  /** CSR mode: the workload's public key. When absent a key pair is generated (server-key mode). */
  readonly publicKey?: KeyObject;
  /** Algorithm of a server-generated key; default ecdsa-p256. Ignored when publicKey is given. */
  readonly keyAlgorithm?: KeyAlgorithm;
  readonly now?: Date;
  /** Randomness for the serial number; default crypto.randomBytes. For tests. */
  readonly randomBytes?: (size: number) => Buffer;
  /**
   * A generated key only as its PKCS#8 DER (`privateKeyDer`), no PEM made: for a caller that seals
   * or stores the DER and would throw the PEM away (the ca-service, for every certificate).
   */
  readonly keyAsDerOnly?: boolean;
}

export interface IssuedLeaf {
  readonly certificatePem: string;
  readonly certificateDer: Buffer;
  /** PKCS#8 PEM; present only when the key was generated here (and keyAsDerOnly was not asked for). */
  readonly privateKeyPem?: string;
  /** The same key's PKCS#8 DER (what the PEM encodes), so callers need not parse the PEM back. */
  readonly privateKeyDer?: Buffer;
  /** Lowercase hex, no colons, no leading zero byte. */
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The DNS SANs written into the certificate, in order: the common name first, then the others once each. */
  readonly dnsNames: readonly string[];
}

/** A subject public key as `openssl x509 -text` shows it. Hex is lowercase without colons. */
export interface PublicKeyInfo {
  /** openssl's name ("id-ecPublicKey", "rsaEncryption"); the OID when unknown. */
  readonly algorithm: string;
  readonly bits: number;
  /** EC: the encoded point, its OpenSSL curve name ("prime256v1") and NIST name ("P-256"). */
  readonly point?: string;
  readonly curve?: string;
  readonly nistCurve?: string;
  /** RSA: modulus (magnitude bytes) and public exponent (decimal). */
  readonly modulus?: string;
  readonly exponent?: string;
}

/** One extension, in certificate order: its OID, openssl's name for it, and the critical flag. */
export interface ExtensionInfo {
  readonly oid: string;
  readonly name: string;
  readonly critical: boolean;
}

/** An Authority Information Access entry: "CA Issuers" / "OCSP" and where, e.g. "URI:http://...". */
export interface AccessDescriptionInfo {
  readonly method: string;
  readonly location: string;
}

export interface CertificateInfo {
  /** 1 or 3 (every certificate we issue is v3). */
  readonly version: number;
  readonly subject: string;
  readonly issuer: string;
  readonly commonName: string | undefined;
  /** Lowercase hex of the serial's bytes (same form as IssuedLeaf.serialNumber); openssl prints it uppercase. */
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly dnsNames: readonly string[];
  readonly uris: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly isCA: boolean;
  readonly keyType: 'ec' | 'rsa' | 'other';
  readonly keySize: number; // bits (curve size for EC)
  readonly fingerprintSha256: string; // colon-separated uppercase hex, like openssl
  /** openssl's name, e.g. "ecdsa-with-SHA256"; the OID when unknown. */
  readonly signatureAlgorithm?: string;
  /** Colon-separated uppercase hex, like openssl. */
  readonly subjectKeyIdentifier?: string;
  readonly authorityKeyIdentifier?: string;
  /** openssl's names, e.g. ["Digital Signature", "Key Encipherment"]. */
  readonly keyUsage?: readonly string[];
  /** openssl's names, e.g. ["TLS Web Server Authentication"]. */
  readonly extendedKeyUsage?: readonly string[];
  readonly publicKey: PublicKeyInfo;
  /** Every extension, in the order the certificate carries them. */
  readonly extensions: readonly ExtensionInfo[];
  /** SubjectAltName entries in certificate order, spelled as openssl prints them ("DNS:a", "IP Address:10.0.0.1"). */
  readonly subjectAltNames?: readonly string[];
  /** BasicConstraints pathLenConstraint. */
  readonly pathLength?: number;
  readonly authorityInfoAccess?: readonly AccessDescriptionInfo[];
  /** The full names of each CRL distribution point, as openssl prints them ("URI:http://..."). */
  readonly crlDistributionPoints?: readonly (readonly string[])[];
  /** The signature BIT STRING's bytes, lowercase hex. */
  readonly signatureValue: string;
}

export type X509ErrorCode =
  | 'INVALID_DURATION'
  | 'INVALID_PEM'
  | 'INVALID_CSR'
  | 'CSR_SIGNATURE_INVALID'
  | 'INVALID_NAME'
  | 'VALIDITY_TOO_SHORT'
  | 'KEY_MISMATCH'
  | 'CA_EXPIRED'
  | 'UNSUPPORTED_KEY'
  | 'CHAIN_INVALID';
