// The `rotate` queue: one job per (commonName, serialNumber), deduplicated by job id so two
// rotation-worker replicas (or a sweep and a manual request) never rotate the same cert twice.
import { z } from 'zod';
import { certificateRecordSchema } from './certificate-record.js';
import { commonNameSchema, issueReasonSchema, serialNumberSchema } from './common.js';

export const rotateJobPayloadSchema = z.object({
  version: z.literal(1),
  commonName: commonNameSchema,
  /** The serial being replaced; the job is a no-op if the inventory already moved past it. */
  serialNumber: serialNumberSchema,
  reason: issueReasonSchema.exclude(['request']),
});
export type RotateJobPayload = z.infer<typeof rotateJobPayloadSchema>;

export const rotateOutcomeSchema = z.enum([
  'rotated', // a new certificate replaced serialNumber
  'already-rotated', // serialNumber is the record's previous serial: an earlier attempt did it
  'superseded', // the record holds a serial other than serialNumber or its successor
  'not-found', // the name was released before the job ran
]);
export type RotateOutcome = z.infer<typeof rotateOutcomeSchema>;

export const rotateJobResultSchema = z.object({
  version: z.literal(1),
  commonName: commonNameSchema,
  previousSerialNumber: serialNumberSchema,
  outcome: rotateOutcomeSchema,
  /** The current record after the job (absent for not-found). */
  certificate: certificateRecordSchema.optional(),
});
export type RotateJobResult = z.infer<typeof rotateJobResultSchema>;

/**
 * Dedupe job id for a rotation. BullMQ 6 accepts ':' in a custom id only when it splits into
 * exactly three parts and plans to refuse ':' entirely, and refuses ids that parse as integers.
 * '/' appears in neither a DNS name (commonNameSchema refuses it) nor a hex serial, so
 * `rotate/<cn>/<serial>` is unambiguous and safe across versions.
 */
export function rotateJobId(commonName: string, serialNumber: string): string {
  return `rotate/${commonName}/${serialNumber}`;
}
