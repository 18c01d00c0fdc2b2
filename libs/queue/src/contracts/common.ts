// Field schemas shared by the job payloads, results, inventory records and events.
import { z } from 'zod';
import { KEY_ALGORITHMS } from '@fsm-certs/core';

/** Persisted in payloads and records: adding an algorithm to core's list is a contract change. */
export const keyAlgorithmSchema = z.enum(KEY_ALGORITHMS);

export const providerKindSchema = z.enum(['tresor', 'vault', 'cert-manager']);
export type ProviderKindName = z.infer<typeof providerKindSchema>;

/** A DNS-style common name. Full validation (labels, wildcards) is x509's job; this bounds the size. */
export const commonNameSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(253, 'must be at most 253 characters')
  .regex(/^[^\s/:]+$/, 'must not contain whitespace, "/" or ":"');

/** Certificate serial: lowercase hex without colons, as x509 and the providers emit it. */
export const serialNumberSchema = z.string().regex(/^[0-9a-f]{1,64}$/, 'must be lowercase hex without colons');

export const isoDateTimeSchema = z.iso.datetime({ offset: true });

export const pemSchema = z.string().min(1).max(64 * 1024);

/** Why a certificate is being (re-)issued; carried into the `issued` / `rotated` event. */
export const issueReasonSchema = z.enum(['request', 'rotate-manual', 'rotate-scheduled']);
export type IssueReason = z.infer<typeof issueReasonSchema>;

/** The error shape a job result carries per failed request; the gateway maps it to problem+json. */
export const jobErrorSchema = z.object({
  code: z.string().min(1),
  message: z.string(),
  httpStatus: z.int().min(400).max(599),
  retryable: z.boolean(),
});
export type JobError = z.infer<typeof jobErrorSchema>;
