// The provider contract: a provider turns an issue request into a signed chain. Everything
// else (reuse, single-flight, renewal times, rotation decisions, announcements) belongs to the
// ca-service (libs/issuance) and the gateway's batcher around it. Each provider splits a backend
// client from the adapter to this interface.
import type { KeyAlgorithm } from '@fsm-certs/core';

export type ProviderKind = 'tresor' | 'vault' | 'cert-manager';

export interface IssueRequest {
  readonly commonName: string;
  /** Extra DNS SANs; the provider always includes the common name as a DNS SAN. */
  readonly dnsNames: readonly string[];
  /** URI SANs, e.g. spiffe://cluster.local/ns/bookstore/sa/bookstore-v2. */
  readonly uris: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly validityMs: number;
  /** Algorithm of a server-generated key; ignored in CSR mode. */
  readonly keyAlgorithm: KeyAlgorithm;
  /** CSR mode: PEM CSR whose key never leaves the workload. Identity still comes from commonName/SANs above. */
  readonly csrPem?: string;
}

export interface TrustBundle {
  /** The CA that signs new certificates now. */
  readonly issuingCaPem: string;
  /** Every root a workload should trust (more than one during a root rotation). */
  readonly trustedCasPem: readonly string[];
}

export interface IssuedCertificate {
  readonly commonName: string;
  readonly certificatePem: string;
  /** Intermediates between the leaf and the root, leaf excluded; empty when the root signs directly. */
  readonly chainPem: readonly string[];
  readonly issuingCaPem: string;
  readonly trustedCasPem: readonly string[];
  /** Present only when the key was generated server-side (never in CSR mode). */
  readonly privateKeyPem?: string;
  /**
   * Optional, for providers that have them at hand (Tresor): the DER the two PEMs above encode
   * (the key as PKCS#8), so sealing and storing need not parse the PEMs back.
   */
  readonly certificateDer?: Buffer;
  readonly privateKeyDer?: Buffer;
  /** Lowercase hex without colons. */
  readonly serialNumber: string;
  /** Read from the certificate itself, not from what was requested. */
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The DNS SANs the certificate carries (the common name included), read from the certificate itself. */
  readonly dnsNames: readonly string[];
  /** SHA-256 fingerprint (lowercase hex) of the issuing CA certificate. */
  readonly issuerId: string;
  readonly provider: ProviderKind;
  /** Backend warnings worth surfacing to the caller (e.g. Vault capped the TTL). */
  readonly warnings: readonly string[];
}

export interface CertificateProvider {
  readonly kind: ProviderKind;
  /**
   * Upper bound, in ms, between aborting the signal of an issue() in flight and that call
   * settling, its clean-up included (cert-manager deletes its CertificateRequest; Vault retries
   * no more and stops waiting for its HTTP request in flight). A stopping ca-service cancels this
   * long before its shutdown budget ends. Absent: settles at once (local signing).
   */
  readonly cancelSettleMs?: number;
  issue(request: IssueRequest, signal?: AbortSignal): Promise<IssuedCertificate>;
  trustBundle(): Promise<TrustBundle>;
  close(): Promise<void>;
}
