// Which certificates arrived with their audit record already stored by the ca-service's commit
// (the job result's `auditId`), so the request they answer is not recorded twice. Keyed by the
// record object the issue client hands to the batcher, which passes it on unchanged.
import type { CertificateRecord } from '@fsm-certs/queue';

const committed = new WeakMap<CertificateRecord, string>();

export function noteAuditCommitted(certificate: CertificateRecord, auditId: string): void {
  committed.set(certificate, auditId);
}

/** The id of the audit record stored with this certificate, if the commit stored one. */
export function committedAuditId(certificate: CertificateRecord): string | undefined {
  return committed.get(certificate);
}
