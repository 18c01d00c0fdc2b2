// In-memory state of the emulated Vault: tokens, mounts, PKI roles and issuers. It survives
// stop()/start() (like a Vault with persistent storage), so outage tests keep their CA.
import type { Issuer } from '@fsm-certs/x509';

export interface TokenEntry {
  readonly id: string;
  readonly accessor: string;
  readonly policies: readonly string[];
  readonly renewable: boolean;
  /** 0 = never expires (root tokens). */
  ttlSeconds: number;
  readonly creationTtlSeconds: number;
  /** undefined = never expires. */
  expiresAt: Date | undefined;
  readonly issuedAt: Date;
  readonly maxTtlSeconds: number;
}

export interface RoleEntry {
  readonly allowAnyName: boolean;
  readonly allowSubdomains: boolean;
  readonly allowBareDomains: boolean;
  readonly allowLocalhost: boolean;
  readonly allowGlobDomains: boolean;
  readonly allowIpSans: boolean;
  readonly allowedDomains: readonly string[];
  readonly allowedUriSans: readonly string[];
  readonly enforceHostnames: boolean;
  readonly ttlSeconds: number;
  readonly maxTtlSeconds: number;
  readonly keyType: 'rsa' | 'ec' | 'ed25519' | 'any';
  readonly keyBits: number;
  readonly serverFlag: boolean;
  readonly clientFlag: boolean;
  /**
   * key_usage as written (Vault's default: DigitalSignature, KeyAgreement, KeyEncipherment). Stored
   * and read back only: the emulator signs with issueLeaf, whose KeyUsage follows the key family.
   */
  readonly keyUsage: readonly string[];
  /** sign/: take the CN / SANs from the CSR (Vault's default) instead of the request body. */
  readonly useCsrCommonName: boolean;
  readonly useCsrSans: boolean;
}

export interface IssuerEntry {
  readonly id: string;
  readonly keyId: string;
  readonly name: string;
  readonly issuer: Issuer;
  readonly serialNumber: string;
}

export interface PkiState {
  readonly roles: Map<string, RoleEntry>;
  readonly issuers: IssuerEntry[];
  defaultIssuerId: string | undefined;
  urls: { issuingCertificates: string[]; crlDistributionPoints: string[]; ocspServers: string[] };
}

export interface MountEntry {
  readonly path: string; // without trailing slash
  readonly type: string;
  readonly accessor: string;
  readonly description: string;
  defaultLeaseTtlSeconds: number;
  maxLeaseTtlSeconds: number;
  readonly pki: PkiState | undefined;
}

/** Vault's system defaults: 768h (32 days) for both lease TTLs. */
export const SYSTEM_MAX_TTL_SECONDS = 768 * 3600;

export function newPkiState(): PkiState {
  return {
    roles: new Map(),
    issuers: [],
    defaultIssuerId: undefined,
    urls: { issuingCertificates: [], crlDistributionPoints: [], ocspServers: [] },
  };
}

export function defaultIssuer(pki: PkiState): IssuerEntry | undefined {
  return pki.issuers.find((i) => i.id === pki.defaultIssuerId);
}
