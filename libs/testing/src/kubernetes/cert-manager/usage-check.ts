// What cert-manager checks before signing: the KeyUsage / ExtKeyUsage / BasicConstraints a CSR
// requests, when present, must say the same as spec.usages and spec.isCA.
import type { CsrDetails } from './csr.js';
import { toX509Usages, type CertManagerUsage } from './usages.js';

const KEY_CERT_SIGN_BIT = 5;

function same<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}

/** A message for the InvalidRequest condition, or undefined when the CSR agrees with the spec. */
export function requestedUsagesMismatch(csr: CsrDetails, usages: readonly CertManagerUsage[], isCA: boolean): string | undefined {
  const expected = toX509Usages(usages);
  if (csr.isCA !== undefined && csr.isCA !== isCA) {
    return `encoded CSR error: the isCA value in the CSR (${csr.isCA}) does not match spec.isCA (${isCA})`;
  }
  if (csr.keyUsageBits !== undefined) {
    // A CA request may carry keyCertSign without listing "cert sign": cert-manager adds it for isCA.
    const wanted = isCA ? [...new Set([...expected.keyUsageBits, KEY_CERT_SIGN_BIT])].sort((a, b) => a - b) : expected.keyUsageBits;
    if (!same(csr.keyUsageBits, wanted) && !same(csr.keyUsageBits, expected.keyUsageBits)) {
      return `encoded CSR error: the KeyUsages [${csr.keyUsageBits.join(' ')}] do not match the expected KeyUsages [${wanted.join(' ')}] from spec.usages`;
    }
  }
  if (csr.extKeyUsageOids !== undefined && !same(csr.extKeyUsageOids, expected.extKeyUsageOids)) {
    return `encoded CSR error: the ExtKeyUsages [${csr.extKeyUsageOids.join(' ')}] do not match the expected ExtKeyUsages [${expected.extKeyUsageOids.join(' ')}] from spec.usages`;
  }
  return undefined;
}
