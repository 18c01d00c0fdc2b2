// What cert-manager checks before signing (pki.CertificateTemplateValidateAndOverride*): when the
// CSR carries BasicConstraints, its cA flag must equal spec.isCA; when it carries a KeyUsage or an
// ExtKeyUsage extension, the KeyUsage bits (none when absent) must equal those spec.usages yields
// (plus keyCertSign for isCA), and the ExtKeyUsages must equal spec.usages' in the same order.
// cert-manager does not look at the key type: an EC CSR asking for keyEncipherment is signed
// with it when spec.usages says so.
import type { CsrDetails } from './csr.js';
import { EXT_KEY_USAGE_OIDS, KEY_USAGE_BITS, type CertManagerUsage } from './usages.js';

const KEY_CERT_SIGN_BIT = 5;
const KNOWN_EKU_OIDS = new Set(Object.values(EXT_KEY_USAGE_OIDS));

function same<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}

/** KeyUsage bits spec.usages asks for, in bit order, as Go's x509.KeyUsage mask holds them. */
export function expectedKeyUsageBits(usages: readonly CertManagerUsage[], isCA: boolean): number[] {
  const bits = new Set<number>(isCA ? [KEY_CERT_SIGN_BIT] : []);
  for (const usage of usages) {
    const bit = KEY_USAGE_BITS[usage];
    if (bit !== undefined) bits.add(bit);
  }
  return [...bits].sort((a, b) => a - b);
}

/** ExtKeyUsage OIDs in spec.usages order (cert-manager appends them one by one). */
function expectedExtKeyUsages(usages: readonly CertManagerUsage[]): string[] {
  return usages.flatMap((usage) => {
    const oid = EXT_KEY_USAGE_OIDS[usage];
    return oid === undefined ? [] : [oid];
  });
}

/** cert-manager's own spelling of a bit ('digital signature' wins over its alias 'signing'). */
function usageNameOfBit(bit: number): string {
  const entry = Object.entries(KEY_USAGE_BITS).find(([name, value]) => value === bit && name !== 'signing');
  return entry?.[0] ?? 'unknown';
}

function usageNameOfOid(oid: string): string {
  return Object.entries(EXT_KEY_USAGE_OIDS).find(([, value]) => value === oid)?.[0] ?? 'unknown';
}

/** cert-manager's printKeyUsage: [ 'digital signature', 'server auth' ], or [] when empty. */
function printUsages(names: readonly string[]): string {
  return names.length === 0 ? '[]' : `[ ${names.map((n) => `'${n}'`).join(', ')} ]`;
}

/** A message for the InvalidRequest condition, or undefined when the CSR agrees with the spec. */
export function requestedUsagesMismatch(csr: CsrDetails, usages: readonly CertManagerUsage[], isCA: boolean): string | undefined {
  if (csr.isCA !== undefined && csr.isCA !== isCA) {
    return `encoded CSR error: IsCA ${csr.isCA} does not match expected value ${isCA}`;
  }
  if (csr.keyUsageBits === undefined && csr.extKeyUsageOids === undefined) return undefined;
  const wantedBits = expectedKeyUsageBits(usages, isCA);
  const haveBits = csr.keyUsageBits ?? [];
  if (!same(haveBits, wantedBits)) {
    return `encoded CSR error: the KeyUsages ${printUsages(haveBits.map(usageNameOfBit))} do not match the expected KeyUsages ${printUsages(wantedBits.map(usageNameOfBit))}`;
  }
  // OIDs Go does not know land in UnknownExtKeyUsage, which cert-manager does not compare.
  const haveEku = (csr.extKeyUsageOids ?? []).filter((oid) => KNOWN_EKU_OIDS.has(oid));
  const wantedEku = expectedExtKeyUsages(usages);
  if (!same(haveEku, wantedEku)) {
    return `encoded CSR error: the ExtKeyUsages ${printUsages(haveEku.map(usageNameOfOid))} do not match the expected ExtKeyUsages ${printUsages(wantedEku.map(usageNameOfOid))}`;
  }
  return undefined;
}
