// Announcements: appended to the Redis Stream `<prefix>:events` (libs/queue re-exports these), and
// relayed unchanged as the `data:` of GET /v1/events. A subscriber skips entries it cannot parse
// (e.g. a kind added by a newer version) and goes on.
import { z } from 'zod';
import { commonNameSchema, isoDateTimeSchema, issueReasonSchema, serialNumberSchema } from './fields.js';

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
  stage: z.string().min(1),
  issuerId: z.string().min(1).optional(),
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
