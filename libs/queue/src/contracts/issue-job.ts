// The `issue` queue. A gateway batches HTTP requests arriving together into one job; the
// ca-service answers every item in one result, in any order, matched by requestId.
//
// Result versions: v1 repeats the CA PEMs (issuing CA + trusted roots, ~60% of a record) in
// every record. v2 lets a record name the trust bundle it shares with the inventory's (by its
// digest) instead. A producer asks for v2 with `resultVersion: 2` in an otherwise unchanged v1
// payload: a ca-service that predates v2 strips the unknown field and answers v1, and a producer
// that does not ask (rotation-worker, tools, older gateways) keeps getting v1. Readers accept
// every version.
//
// v3 names each stored certificate (common name and serial) instead of carrying it: every
// certificate an issue job answers with is the inventory's current record of its name (the
// commit has just stored it, or the batch found it there), so the gateway reads those records,
// all of a job's in one round trip, and answers only with the very serial named; a name that
// holds another serial by then (renewed, re-issued by a root rotation, released) is answered 503,
// retryable, never with another certificate. A producer asks for v3 with `maxResultVersion: 3`
// beside `resultVersion: 2`: `resultVersion` stays `z.literal(2)` because a ca-service that
// predates v3 refuses any other value there, while it strips the unknown `maxResultVersion` and
// answers v2. A ca-service answers the highest version it writes up to the one asked for. The
// gateway asks for v3 only for jobs of several items (STORED_RESULTS_MIN_ITEMS in libs/gateway):
// the read back costs a round trip per job, what v3 saves grows with the items.
//
// Audit by the commit: a gateway that names the audit record of an HTTP request in its item
// (`audit`: the record's id, chosen by the gateway, and who asked) lets the ca-service store that
// record in the same script call as the certificate; the item's result then says so (`auditId`).
// A ca-service that predates this strips `audit` and answers without `auditId`, and the gateway
// stores the record itself, under the same id: a record is stored at most once per id, whichever
// process writes it and however often (a retried job answers the item again without `auditId`).
import { z } from 'zod';
import { AUDIT_FIELD_LIMITS, AUDIT_ID_PATTERN, FIELD_LIMITS } from '@fsm-certs/api';
import { certificateRecordSchema, compactCertificateRecordSchema } from './certificate-record.js';
import {
  commonNameSchema,
  issueReasonSchema,
  jobErrorSchema,
  keyAlgorithmSchema,
  pemSchema,
  serialNumberSchema,
} from './common.js';

/** Who asked for an item over HTTP, and the id its audit record is stored under. */
export const issueAuditContextSchema = z.object({
  /** The audit record's id (AuditLog.newId: its epoch milliseconds are the record's time). */
  id: z.string().regex(AUDIT_ID_PATTERN),
  operation: z.literal('issueCertificate'),
  caller: z.string().max(AUDIT_FIELD_LIMITS.caller).nullable(),
  clientAddress: z.string().max(AUDIT_FIELD_LIMITS.clientAddress).nullable(),
  /** The HTTP request's X-Request-Id. */
  requestId: z.string().max(AUDIT_FIELD_LIMITS.requestId),
});
export type IssueAuditContext = z.infer<typeof issueAuditContextSchema>;

/** Upper bound on one batch so a job (and its result) stays well under BullMQ's comfortable size. */
export const MAX_ISSUE_BATCH = 500;

export const issueItemSchema = z.object({
  /** Idempotency key: a retried job returns the certificate already issued for this id. */
  requestId: z.uuid(),
  commonName: commonNameSchema,
  dnsNames: z.array(z.string().min(1).max(FIELD_LIMITS.dnsName)).max(FIELD_LIMITS.sans),
  uris: z.array(z.string().min(1).max(FIELD_LIMITS.uri)).max(FIELD_LIMITS.sans),
  ipAddresses: z.array(z.string().min(1).max(FIELD_LIMITS.ipAddress)).max(FIELD_LIMITS.sans),
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
  /** Store the audit record of this request with the certificate (see the top of this file). */
  audit: issueAuditContextSchema.optional(),
});
export type IssueItem = z.infer<typeof issueItemSchema>;

export const issueJobPayloadSchema = z.object({
  version: z.literal(1),
  requests: z.array(issueItemSchema).min(1).max(MAX_ISSUE_BATCH),
  /** Highest result version the producer reads, up to 2; absent means 1. */
  resultVersion: z.literal(2).optional(),
  /** Highest result version the producer reads when above 2 (see the top of this file); absent: resultVersion says. */
  maxResultVersion: z.int().positive().optional(),
});
export type IssueJobPayload = z.infer<typeof issueJobPayloadSchema>;

/** An item the ca-service refused; the same in every result version. */
const issueItemFailureSchema = z.object({
  requestId: z.uuid(),
  ok: z.literal(false),
  error: jobErrorSchema,
});

export const issueItemResultSchema = z.discriminatedUnion('ok', [
  z.object({
    requestId: z.uuid(),
    ok: z.literal(true),
    /** Server-key mode: the key is in certificate.encryptedPrivateKey, never clear in Redis. */
    certificate: certificateRecordSchema,
    /** Set when the commit that stored the certificate also stored the item's audit record (this id). */
    auditId: z.string().optional(),
  }),
  issueItemFailureSchema,
]);
export type IssueItemResult = z.infer<typeof issueItemResultSchema>;

export const issueJobResultV1Schema = z.object({
  version: z.literal(1),
  results: z.array(issueItemResultSchema),
});
export type IssueJobResultV1 = z.infer<typeof issueJobResultV1Schema>;

/** SHA-256 (lowercase hex) naming a trust bundle; see trustBundleDigest(). */
export const trustBundleDigestSchema = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex SHA-256');

export const issueItemResultV2Schema = z.discriminatedUnion('ok', [
  z.object({
    requestId: z.uuid(),
    ok: z.literal(true),
    /**
     * Without issuingCaPem/trustedCasPem when trustBundleDigest is set: they are the trust
     * bundle's with that digest. With both PEMs (and no digest) when the record's CA PEMs
     * differ from the bundle the ca-service currently publishes (e.g. reused from before a CA change).
     */
    certificate: compactCertificateRecordSchema,
    trustBundleDigest: trustBundleDigestSchema.optional(),
    auditId: z.string().optional(),
  }),
  issueItemFailureSchema,
]);
export type IssueItemResultV2 = z.infer<typeof issueItemResultV2Schema>;

export const issueJobResultV2Schema = z.object({
  version: z.literal(2),
  results: z.array(issueItemResultV2Schema),
});
export type IssueJobResultV2 = z.infer<typeof issueJobResultV2Schema>;

/** The highest result version this release writes (and reads). */
export const LATEST_ISSUE_RESULT_VERSION = 3;

/** v3: an item answered by a stored certificate, named by the key it is stored under and its serial. */
export const issueItemStoredSchema = z.object({
  requestId: z.uuid(),
  ok: z.literal(true),
  commonName: commonNameSchema,
  serialNumber: serialNumberSchema,
  auditId: z.string().optional(),
});
export type IssueItemStored = z.infer<typeof issueItemStoredSchema>;

export const issueItemResultV3Schema = z.discriminatedUnion('ok', [issueItemStoredSchema, issueItemFailureSchema]);
export type IssueItemResultV3 = z.infer<typeof issueItemResultV3Schema>;

export const issueJobResultV3Schema = z.object({
  version: z.literal(3),
  results: z.array(issueItemResultV3Schema),
});
export type IssueJobResultV3 = z.infer<typeof issueJobResultV3Schema>;

/** Every result version a reader must accept. */
export const issueJobResultSchema = z.discriminatedUnion('version', [issueJobResultV1Schema, issueJobResultV2Schema, issueJobResultV3Schema]);
export type IssueJobResult = z.infer<typeof issueJobResultSchema>;
