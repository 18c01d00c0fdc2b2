// The `issue` queue. A gateway batches HTTP requests arriving together into one job; the
// ca-service answers every item in one result, in any order, matched by requestId.
import { z } from 'zod';
import { certificateRecordSchema } from './certificate-record.js';
import {
  commonNameSchema,
  issueReasonSchema,
  jobErrorSchema,
  keyAlgorithmSchema,
  pemSchema,
  serialNumberSchema,
} from './common.js';

/** Upper bound on one batch so a job (and its result) stays well under BullMQ's comfortable size. */
export const MAX_ISSUE_BATCH = 500;

export const issueItemSchema = z.object({
  /** Idempotency key: a retried job returns the certificate already issued for this id. */
  requestId: z.uuid(),
  commonName: commonNameSchema,
  dnsNames: z.array(z.string().min(1).max(253)).max(100),
  uris: z.array(z.string().min(1).max(2048)).max(100),
  ipAddresses: z.array(z.string().min(1).max(64)).max(100),
  validityMs: z.int().positive(),
  keyAlgorithm: keyAlgorithmSchema,
  /** CSR mode when present; the identity is still commonName + SANs above, not the CSR subject. */
  csrPem: pemSchema.optional(),
  reason: issueReasonSchema,
  /**
   * Rotation guard: issue only if the inventory's current serial for commonName is this one
   * (or it already moved past it because of this very request). Unset for plain requests.
   */
  expectSerial: serialNumberSchema.optional(),
});
export type IssueItem = z.infer<typeof issueItemSchema>;

export const issueJobPayloadSchema = z.object({
  version: z.literal(1),
  requests: z.array(issueItemSchema).min(1).max(MAX_ISSUE_BATCH),
});
export type IssueJobPayload = z.infer<typeof issueJobPayloadSchema>;

export const issueItemResultSchema = z.discriminatedUnion('ok', [
  z.object({
    requestId: z.uuid(),
    ok: z.literal(true),
    /** Server-key mode: the key is in certificate.encryptedPrivateKey, never clear in Redis. */
    certificate: certificateRecordSchema,
  }),
  z.object({
    requestId: z.uuid(),
    ok: z.literal(false),
    error: jobErrorSchema,
  }),
]);
export type IssueItemResult = z.infer<typeof issueItemResultSchema>;

export const issueJobResultSchema = z.object({
  version: z.literal(1),
  results: z.array(issueItemResultSchema),
});
export type IssueJobResult = z.infer<typeof issueJobResultSchema>;
