// Field schemas shared by the job payloads, results, inventory records and events. Those the
// HTTP API exposes too are defined once in @fsm-certs/api and re-exported here.
import { z } from 'zod';

export {
  keyAlgorithmSchema,
  providerKindSchema,
  commonNameSchema,
  serialNumberSchema,
  isoDateTimeSchema,
  issueReasonSchema,
  type ProviderKindName,
  type IssueReason,
} from '@fsm-certs/api';

/** pemSchema's bound, for the hand checks of everyday payloads and records. */
export const MAX_PEM_CHARS = 64 * 1024;
export const pemSchema = z.string().min(1).max(MAX_PEM_CHARS);

/**
 * commonNameSchema's characters narrowed to DNS characters: a name of only these (within the
 * schema's length bound) is one the schema accepts unchanged, so hand checks may pass it.
 */
export const PLAIN_COMMON_NAME = /^[A-Za-z0-9*_.-]+$/;

/** The error shape a job result carries per failed request; the gateway maps it to problem+json. */
export const jobErrorSchema = z.object({
  code: z.string().min(1),
  message: z.string(),
  httpStatus: z.int().min(400).max(599),
  retryable: z.boolean(),
});
export type JobError = z.infer<typeof jobErrorSchema>;
