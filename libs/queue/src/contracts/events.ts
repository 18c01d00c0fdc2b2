// Announcements on the Redis Stream `<prefix>:events`: the same schemas the HTTP API relays as
// Server-Sent Events, so they are defined once, in @fsm-certs/api.
export {
  issuedEventSchema,
  rotatedEventSchema,
  releasedEventSchema,
  trustBundleChangedEventSchema,
  rootRotationStageEventSchema,
  certEventSchema,
  CERT_EVENT_KINDS,
  type CertEvent,
  type CertEventKind,
  type IssuedEvent,
  type RotatedEvent,
  type ReleasedEvent,
  type TrustBundleChangedEvent,
  type RootRotationStageEvent,
} from '@fsm-certs/api';
