// cert-manager's KeyUsage enum (the CRD's) and how each value lands in an X.509 certificate.
export const CERT_MANAGER_USAGES = [
  'signing',
  'digital signature',
  'content commitment',
  'key encipherment',
  'key agreement',
  'data encipherment',
  'cert sign',
  'crl sign',
  'encipher only',
  'decipher only',
  'any',
  'server auth',
  'client auth',
  'code signing',
  'email protection',
  's/mime',
  'ipsec end system',
  'ipsec tunnel',
  'ipsec user',
  'timestamping',
  'ocsp signing',
  'microsoft sgc',
  'netscape sgc',
] as const;
export type CertManagerUsage = (typeof CERT_MANAGER_USAGES)[number];

/** What cert-manager assumes when spec.usages is unset. */
export const DEFAULT_USAGES: readonly CertManagerUsage[] = ['digital signature', 'key encipherment'];

export function isCertManagerUsage(value: unknown): value is CertManagerUsage {
  return typeof value === 'string' && (CERT_MANAGER_USAGES as readonly string[]).includes(value);
}

/** KeyUsage bit numbers (RFC 5280 4.2.1.3). 'signing' is cert-manager's alias of digitalSignature. */
export const KEY_USAGE_BITS: Readonly<Partial<Record<CertManagerUsage, number>>> = {
  signing: 0,
  'digital signature': 0,
  'content commitment': 1,
  'key encipherment': 2,
  'data encipherment': 3,
  'key agreement': 4,
  'cert sign': 5,
  'crl sign': 6,
  'encipher only': 7,
  'decipher only': 8,
};

export const EXT_KEY_USAGE_OIDS: Readonly<Partial<Record<CertManagerUsage, string>>> = {
  any: '2.5.29.37.0',
  'server auth': '1.3.6.1.5.5.7.3.1',
  'client auth': '1.3.6.1.5.5.7.3.2',
  'code signing': '1.3.6.1.5.5.7.3.3',
  'email protection': '1.3.6.1.5.5.7.3.4',
  's/mime': '1.3.6.1.5.5.7.3.4',
  'ipsec end system': '1.3.6.1.5.5.7.3.5',
  'ipsec tunnel': '1.3.6.1.5.5.7.3.6',
  'ipsec user': '1.3.6.1.5.5.7.3.7',
  timestamping: '1.3.6.1.5.5.7.3.8',
  'ocsp signing': '1.3.6.1.5.5.7.3.9',
  'microsoft sgc': '1.3.6.1.4.1.311.10.3.3',
  'netscape sgc': '2.16.840.1.113730.4.1',
};

export interface X509Usages {
  /** Sorted, de-duplicated KeyUsage bit numbers. */
  readonly keyUsageBits: readonly number[];
  /** Sorted, de-duplicated ExtKeyUsage OIDs. */
  readonly extKeyUsageOids: readonly string[];
}

/** How a set of cert-manager usages is expressed in X.509, in a canonical order for comparison. */
export function toX509Usages(usages: readonly CertManagerUsage[]): X509Usages {
  const bits = new Set<number>();
  const oids = new Set<string>();
  for (const usage of usages) {
    const bit = KEY_USAGE_BITS[usage];
    if (bit !== undefined) bits.add(bit);
    const oid = EXT_KEY_USAGE_OIDS[usage];
    if (oid !== undefined) oids.add(oid);
  }
  return { keyUsageBits: [...bits].sort((a, b) => a - b), extKeyUsageOids: [...oids].sort() };
}
