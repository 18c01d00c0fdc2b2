// The audit trail's contract: one record per decision the gateway (or the CA) made about a
// certificate, as GET /v1/audit returns them and the gateway logs them. Never a private key, a
// token or a CSR: names, serial, validity and who asked are what an operator needs.
import { z } from 'zod';
import { isoDateTimeSchema, keyAlgorithmSchema, providerKindSchema, serialNumberSchema } from './fields.js';
import { MAX_PAGE } from './requests.js';

export const AUDIT_OUTCOMES = ['issued', 'reused', 'rotated', 'released', 'refused', 'trust-bundle-changed', 'root-rotation-stage'] as const;
export const auditOutcomeSchema = z.enum(AUDIT_OUTCOMES);
export type AuditOutcome = z.infer<typeof auditOutcomeSchema>;

/** An audit record's id (AuditLog.newId): its epoch milliseconds in 13 digits, then 12 hex digits. */
export const AUDIT_ID_PATTERN = /^\d{13}-[0-9a-f]{12}$/;

/** Length bounds of who asked, the same in a stored record, a query and a queue item's audit context. */
export const AUDIT_FIELD_LIMITS = { caller: 300, clientAddress: 64, requestId: 128 } as const;

export const auditRecordSchema = z
  .object({
    id: z.string().regex(AUDIT_ID_PATTERN).meta({ description: 'Sorts by time: the record\'s epoch milliseconds, then a random part.' }),
    at: isoDateTimeSchema,
    outcome: auditOutcomeSchema,
    operation: z.string().max(64).meta({ description: 'The API operation (issueCertificate, rotateCertificate, deleteCertificate, getCertificate) or the event.' }),
    caller: z.string().max(AUDIT_FIELD_LIMITS.caller).nullable().meta({ description: 'Token name or system:serviceaccount:<ns>:<sa>; null when the caller could not be authenticated.' }),
    clientAddress: z.string().max(AUDIT_FIELD_LIMITS.clientAddress).nullable(),
    requestId: z.string().max(AUDIT_FIELD_LIMITS.requestId).nullable().meta({ description: 'X-Request-Id of the request (given by the client or generated), also sent back in the answer.' }),
    commonName: z.string().max(253).nullable(),
    names: z.array(z.string().max(2048)).max(200).meta({ description: 'Every name the certificate (or the refused request) carries: CN, DNS, IP, URI, SPIFFE.' }),
    serialNumber: serialNumberSchema.nullable(),
    notBefore: isoDateTimeSchema.nullable(),
    notAfter: isoDateTimeSchema.nullable(),
    keyAlgorithm: keyAlgorithmSchema.nullable(),
    provider: providerKindSchema.nullable(),
    issuerId: z.string().max(128).nullable(),
    code: z.string().max(64).nullable().meta({ description: 'For refusals: the problem code answered (e.g. NAME_NOT_ALLOWED).' }),
    status: z.int().min(100).max(599).nullable().meta({ description: 'The HTTP status answered.' }),
  })
  .meta({ id: 'AuditRecord' });
export type AuditRecord = z.infer<typeof auditRecordSchema>;

export const auditQuerySchema = z.object({
  name: z.string().max(2048).optional().meta({ description: 'Only records carrying this name (exact, case-insensitive for DNS names).' }),
  caller: z.string().max(AUDIT_FIELD_LIMITS.caller).optional().meta({ description: 'Only records of this caller.' }),
  outcome: auditOutcomeSchema.optional(),
  since: isoDateTimeSchema.optional().meta({ description: 'Only records at or after this time.' }),
  until: isoDateTimeSchema.optional().meta({ description: 'Only records before this time.' }),
  limit: z
    .string()
    .regex(/^\d{1,4}$/)
    .transform(Number)
    .pipe(z.int().min(1).max(MAX_PAGE))
    .optional()
    .meta({ description: `Page size, 1..${MAX_PAGE}; default 100.` }),
  cursor: z.string().regex(AUDIT_ID_PATTERN).optional().meta({ description: 'The nextCursor of the previous page.' }),
});
export type AuditQuery = z.output<typeof auditQuerySchema>;

export const auditPageSchema = z
  .object({
    items: z.array(auditRecordSchema),
    nextCursor: z.string().nullable().meta({ description: 'Pass as cursor for the next page (oldest first); null on the last page.' }),
  })
  .meta({ id: 'AuditPage' });
export type AuditPage = z.infer<typeof auditPageSchema>;
