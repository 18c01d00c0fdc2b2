// Decides whether an existing inventory record already answers a plain `request` item, so a
// workload asking again (restart, retry, second replica) gets the current certificate instead of
// a new one — FSM's IssueCertificate semantics. "Same parameters" means the same mode, SANs,
// validity, key algorithm (server-key mode) or CSR public key (CSR mode), from the issuer that
// signs today, and not yet due for renewal.
import type { CertificateRecord, IssueItem } from '@fsm-certs/queue';
import { parseCsr } from '@fsm-certs/x509';

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const left = [...a].sort();
  const right = [...b].sort();
  return left.every((value, i) => value === right[i]);
}

function spkiOfCsr(csrPem: string): Buffer | undefined {
  try {
    return parseCsr(csrPem).publicKey.export({ type: 'spki', format: 'der' });
  } catch {
    return undefined;
  }
}

/** True when both CSRs carry the same public key (the workload kept its key). */
export function sameCsrKey(a: string, b: string): boolean {
  if (a === b) return true;
  const left = spkiOfCsr(a);
  const right = spkiOfCsr(b);
  return left !== undefined && right !== undefined && left.equals(right);
}

/**
 * DNS names as a certificate for `commonName` carries them: the CN is always among them. A record
 * lists the certificate's DNS SANs (CN included; records written before that omit it), a request
 * only the extra names.
 */
function dnsNamesWithCn(commonName: string, names: readonly string[]): string[] {
  return [...new Set([commonName, ...names].map((name) => name.toLowerCase()))];
}

export function sameParameters(record: CertificateRecord, item: IssueItem): boolean {
  const itemMode = item.csrPem === undefined ? 'server-key' : 'csr';
  if (record.mode !== itemMode) return false;
  if (record.validityMs !== item.validityMs) return false;
  if (!sameSet(dnsNamesWithCn(record.commonName, record.dnsNames), dnsNamesWithCn(item.commonName, item.dnsNames))) return false;
  if (!sameSet(record.uris, item.uris)) return false;
  if (!sameSet(record.ipAddresses, item.ipAddresses)) return false;
  if (itemMode === 'server-key') return record.keyAlgorithm === item.keyAlgorithm;
  return record.csrPem !== undefined && item.csrPem !== undefined && sameCsrKey(record.csrPem, item.csrPem);
}

/**
 * A record is reusable for a plain request when nothing about it asks for a new one: same
 * parameters, issued by the CA that issues now, before its renewAt and its notAfter.
 */
export function isReusable(
  record: CertificateRecord,
  item: IssueItem,
  context: { readonly nowMs: number; readonly currentIssuerId: string | undefined },
): boolean {
  if (context.nowMs >= Date.parse(record.renewAt) || context.nowMs >= Date.parse(record.notAfter)) return false;
  if (context.currentIssuerId !== undefined && record.issuerId !== context.currentIssuerId) return false;
  return sameParameters(record, item);
}
