// The audit record of a certificate handed out over HTTP, built in one place: the gateway builds
// it when it writes the record itself, the ca-service when its commit stores it with the
// certificate, and the gateway again to log the line of a record the commit stored. The same
// inputs give the same record, byte for byte, whichever process builds it.
import type { AuditOutcome, AuditRecord } from '@fsm-certs/api';
import type { CertificateRecord } from '../contracts/certificate-record.js';
import type { IssueAuditContext } from '../contracts/issue-job.js';

/** The identity-bearing fields of a certificate or of a request for one. */
export interface AuditedNames {
  readonly commonName: string;
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly uris: readonly string[];
}

export type CertificateNameKind = 'cn' | 'dns' | 'ip' | 'uri' | 'spiffe';

export interface CertificateName {
  readonly kind: CertificateNameKind;
  readonly value: string;
}

/**
 * Every name a certificate (or a request for one) carries: CN, DNS SANs (the CN once), IPs,
 * SPIFFE ids and other URIs. What authorization checks, all of it, and what the audit trail lists.
 */
export function certificateNames(cert: AuditedNames): CertificateName[] {
  const cn = cert.commonName.toLowerCase();
  const out: CertificateName[] = [{ kind: 'cn', value: cn }];
  for (const dns of new Set(cert.dnsNames.map((n) => n.toLowerCase()))) if (dns !== cn) out.push({ kind: 'dns', value: dns });
  for (const ip of cert.ipAddresses) out.push({ kind: 'ip', value: ip });
  for (const uri of cert.uris) out.push({ kind: uri.toLowerCase().startsWith('spiffe://') ? 'spiffe' : 'uri', value: uri });
  return out;
}

/** Every name a certificate carries, as the audit trail lists them (certificateNames' values). */
export function auditNames(cert: AuditedNames): string[] {
  return certificateNames(cert).map((name) => name.value);
}

/** The epoch milliseconds an audit record id (AuditLog.newId) begins with. */
export function auditIdTime(id: string): number {
  return Number(id.slice(0, 13));
}

/** What an audit record says about a certificate. */
export type AuditedCertificate = AuditedNames &
  Pick<CertificateRecord, 'serialNumber' | 'notBefore' | 'notAfter' | 'keyAlgorithm' | 'provider' | 'issuerId'>;

/** The record of a granted certificate request; its time is the one its id carries. */
export function certificateAuditRecord(context: IssueAuditContext, outcome: AuditOutcome, status: number, certificate: AuditedCertificate): AuditRecord {
  return {
    id: context.id,
    at: new Date(auditIdTime(context.id)).toISOString(),
    outcome,
    operation: context.operation,
    caller: context.caller,
    clientAddress: context.clientAddress,
    requestId: context.requestId,
    commonName: certificate.commonName,
    names: auditNames(certificate),
    serialNumber: certificate.serialNumber,
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
    keyAlgorithm: certificate.keyAlgorithm,
    provider: certificate.provider,
    issuerId: certificate.issuerId,
    code: null,
    status,
  };
}
