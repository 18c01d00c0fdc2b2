// One prefix for BullMQ's queues and every key of ours. It contains a Redis Cluster hash tag
// (`{...}`) so all keys land in one slot: Lua scripts and MULTI across them stay legal on a
// cluster. BullMQ builds `<prefix>:<queue>:...`, so our own segments below must never be used
// as queue names.
import { QueueError } from './errors.js';

export const DEFAULT_PREFIX = '{fsm-certs}';

/** Segments reserved for our keys; a queue with one of these names would collide. */
export const RESERVED_SEGMENTS = ['inv', 'trust-bundle', 'events', 'instances', 'ca-rotation', 'rate', 'audit'] as const;

export interface Keyspace {
  readonly prefix: string;
  /** Hash per common name: fields `record` (JSON), `serial`, `previousSerial`, `ca` (CA entry digest). */
  cert(commonName: string): string;
  /** Sorted set: member = common name, score = renewAt in epoch ms. */
  readonly renewIndex: string;
  /** Sorted set, all scores 0: member = common name, for stable lexicographic pagination. */
  readonly names: string;
  /**
   * Sorted set: member = common name, score = issuer slot * 10^10 + notAfter in epoch seconds
   * (live-leaves.ts): live leaves per issuing root in O(log n).
   */
  readonly liveIndex: string;
  /** Hash: issuer id -> its slot in liveIndex; `#next` the last slot given, `#ready` once every record is indexed. */
  readonly liveIssuers: string;
  /** String `<commonName> <serial>` with a TTL: which cert a request id produced. */
  request(requestId: string): string;
  /** String: JSON CA PEMs shared by the records whose hash field `ca` holds this digest. */
  caEntry(digest: string): string;
  /** String: JSON trust bundle served at /v1/ca. */
  readonly trustBundle: string;
  /** Stream of announcements. */
  readonly events: string;
  /** Sorted set per role: member = instance id, score = expiry (Redis server time, ms). */
  instances(role: string): string;
  /** String: JSON root-rotation status served at GET /v1/ca/rotation. */
  readonly rotationStatus: string;
  /** Hash: ca-service instance id -> fingerprint of the root it signs with. */
  readonly rotationSigners: string;
  /** String with a TTL: the ca-service instance running the rotation controller's pass. */
  readonly rotationLease: string;
  /** Hash per rate-limited caller: fields `tokens`, `ts` (Redis server time, ms). */
  rate(caller: string): string;
  /** Sorted set: member = audit record id, score = its time (ms); what the retention trims. */
  readonly auditIndex: string;
  /** Hash: audit record id -> record JSON. */
  readonly auditRecords: string;
}

export function assertValidPrefix(prefix: string): void {
  // A prefix with ':' or no hash tag breaks cluster-readiness; refuse rather than run degraded.
  if (!/^\{[^{}:\s]+\}$/.test(prefix) && !/^[^{}:\s]*\{[^{}:\s]+\}[^{}:\s]*$/.test(prefix)) {
    throw new QueueError(
      'INVALID_ARGUMENT',
      `Key prefix "${prefix}" must contain one Redis Cluster hash tag like "{fsm-certs}" and no ':' or spaces.`,
    );
  }
}

export function keyspace(prefix: string = DEFAULT_PREFIX): Keyspace {
  assertValidPrefix(prefix);
  return {
    prefix,
    cert: (commonName) => `${prefix}:inv:cert:${commonName}`,
    renewIndex: `${prefix}:inv:renew`,
    names: `${prefix}:inv:names`,
    liveIndex: `${prefix}:inv:live`,
    liveIssuers: `${prefix}:inv:live-issuers`,
    request: (requestId) => `${prefix}:inv:req:${requestId}`,
    caEntry: (digest) => `${prefix}:inv:ca:${digest}`,
    trustBundle: `${prefix}:trust-bundle`,
    events: `${prefix}:events`,
    instances: (role) => `${prefix}:instances:${role}`,
    rotationStatus: `${prefix}:ca-rotation:status`,
    rotationSigners: `${prefix}:ca-rotation:signers`,
    rotationLease: `${prefix}:ca-rotation:lease`,
    rate: (caller) => `${prefix}:rate:${caller}`,
    auditIndex: `${prefix}:audit:index`,
    auditRecords: `${prefix}:audit:records`,
  };
}
