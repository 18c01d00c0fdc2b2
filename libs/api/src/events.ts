// Announcements: appended to the Redis Stream `<prefix>:events` (libs/queue re-exports these), and
// relayed unchanged as the `data:` of GET /v1/events. A subscriber skips entries it cannot parse
// (e.g. a kind added by a newer version) and goes on.
import { z } from 'zod';
import { commonNameSchema, isoDateTimeSchema, issueReasonSchema, serialNumberSchema } from './fields.js';
import { rootRotationActionSchema, rootRotationStageSchema } from './rotation.js';

const base = { version: z.literal(1), at: isoDateTimeSchema };

export const issuedEventSchema = z.object({
  ...base,
  kind: z.literal('issued'),
  commonName: commonNameSchema,
  serialNumber: serialNumberSchema,
  notAfter: isoDateTimeSchema,
});

export const rotatedEventSchema = z.object({
  ...base,
  kind: z.literal('rotated'),
  commonName: commonNameSchema,
  serialNumber: serialNumberSchema,
  previousSerialNumber: serialNumberSchema,
  notAfter: isoDateTimeSchema,
  reason: issueReasonSchema,
});

/** The name was deleted from the inventory (DELETE /v1/certificates/{cn}). */
export const releasedEventSchema = z.object({
  ...base,
  kind: z.literal('released'),
  commonName: commonNameSchema,
  serialNumber: serialNumberSchema,
});

export const trustBundleChangedEventSchema = z.object({
  ...base,
  kind: z.literal('trust-bundle-changed'),
  /** Fingerprint of the CA that issues from now on. */
  issuerId: z.string().min(1),
  trustedCaCount: z.int().min(1),
  rootNotAfter: isoDateTimeSchema,
});

/** Staged root rotation: add new root to bundles → issue from it → drop the old root. */
export const rootRotationStageEventSchema = z.object({
  ...base,
  kind: z.literal('root-rotation-stage'),
  stage: rootRotationStageSchema,
  /** The stage it left. */
  previousStage: rootRotationStageSchema.optional(),
  /** What moved it: an admin's action, or `auto` timers. */
  action: rootRotationActionSchema.optional(),
  auto: z.boolean().optional(),
  rotationId: z.string().min(1).optional(),
  /** Fingerprint of the root that signs from now on. */
  issuerId: z.string().min(1).optional(),
  paused: z.boolean().optional(),
  detail: z.string().optional(),
});

export const certEventSchema = z.discriminatedUnion('kind', [
  issuedEventSchema,
  rotatedEventSchema,
  releasedEventSchema,
  trustBundleChangedEventSchema,
  rootRotationStageEventSchema,
]).meta({ id: 'CertEvent', description: 'An announcement: the `data:` of one Server-Sent Event.' });
export type CertEvent = z.infer<typeof certEventSchema>;
export type CertEventKind = CertEvent['kind'];
export const CERT_EVENT_KINDS: readonly CertEventKind[] = [
  'issued',
  'rotated',
  'released',
  'trust-bundle-changed',
  'root-rotation-stage',
];
export type IssuedEvent = z.infer<typeof issuedEventSchema>;
export type RotatedEvent = z.infer<typeof rotatedEventSchema>;
export type ReleasedEvent = z.infer<typeof releasedEventSchema>;
export type TrustBundleChangedEvent = z.infer<typeof trustBundleChangedEventSchema>;
export type RootRotationStageEvent = z.infer<typeof rootRotationStageEventSchema>;

/** The SSE event name of a reset on GET /v1/events. */
export const STREAM_RESET_EVENT = 'reset';

/**
 * The `data:` of `event: reset` (sent without an `id:`): the events after `lastEventId` were
 * trimmed from the gateway's bounded stream before this client got them; the stream goes on with
 * `oldestId`. Whatever a client keeps in step with the events must be re-read from the API.
 */
export const streamResetSchema = z
  .object({
    /** Why events were skipped; `trimmed` (the stream's length cap) is the only one so far. */
    reason: z.string().min(1),
    lastEventId: z.string().min(1),
    oldestId: z.string().min(1),
  })
  .meta({ id: 'StreamReset', description: 'The `data:` of `event: reset`: events after lastEventId were trimmed; the stream goes on with oldestId. Re-list.' });
export type StreamReset = z.infer<typeof streamResetSchema>;
