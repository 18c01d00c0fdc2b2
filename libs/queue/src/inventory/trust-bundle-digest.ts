// A short name for a trust bundle's content, so issue results can reference the bundle instead
// of repeating its PEMs. Content-derived (not an update time): two ca-service replicas with the
// same CA agree on it, and a reader holding an outdated copy sees the mismatch and re-reads.
import { createHash } from 'node:crypto';

/** SHA-256 (lowercase hex) over the trimmed issuing CA and trusted roots, in order. */
export function trustBundleDigest(issuingCaPem: string, trustedCasPem: readonly string[]): string {
  const hash = createHash('sha256').update(issuingCaPem.trim());
  for (const pem of trustedCasPem) hash.update('\n\n').update(pem.trim());
  return hash.digest('hex');
}
