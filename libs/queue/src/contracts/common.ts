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

export const pemSchema = z.string().min(1).max(64 * 1024);

/** The error shape a job result carries per failed request; the gateway maps it to problem+json. */
export const jobErrorSchema = z.object({
  code: z.string().min(1),
  message: z.string(),
  httpStatus: z.int().min(400).max(599),
  retryable: z.boolean(),
});
export type JobError = z.infer<typeof jobErrorSchema>;
