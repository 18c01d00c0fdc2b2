// The gateway's stable error codes: each one's HTTP status, title and when it is answered. Part
// of the contract (clients branch on `code`); the gateway's GatewayError takes status and title
// from here, the OpenAPI document and docs/http-api.md list them from here.
import { z } from 'zod';

interface ProblemCodeInfo {
  readonly status: number;
  readonly title: string;
  /** When it is answered, for the documentation. */
  readonly when: string;
}

export const PROBLEM_CODES = {
  INVALID_BODY: { status: 400, title: 'Invalid request body', when: 'not a JSON object, unknown field, wrong type, or a request the issue queue would refuse' },
  INVALID_NAME: { status: 400, title: 'Invalid name', when: 'common name / SAN / path name is not a DNS name, IP or URI, the path has a malformed percent-escape, or a wildcard name the caller\'s policy does not allow' },
  INVALID_DURATION: { status: 400, title: 'Invalid validity duration', when: '`validity` is not a Go duration, under `10m`, or over 100 years' },
  INVALID_CSR: { status: 400, title: 'Invalid certificate signing request', when: 'the CSR is not one PEM CERTIFICATE REQUEST, does not parse, its signature does not verify, its key is unsupported (not P-256 / RSA 2048-4096, or an RSA exponent other than 65537), or its key contradicts `keyAlgorithm`' },
  INVALID_SPIFFE: { status: 400, title: 'Cannot derive a SPIFFE identity', when: '`spiffe: true` with a common name not of the form `<sa>.<ns>.<trustDomain>`, or a bad namespace / service account' },
  INVALID_QUERY: { status: 400, title: 'Invalid query parameter', when: 'bad `limit`, `cursor`, `overdue`, `unreadable`, `includeKey` or `Last-Event-ID`' },
  UNAUTHENTICATED: { status: 401, title: 'Authentication required', when: 'no bearer token, an unknown one, or a ServiceAccount token Kubernetes does not accept (expired, wrong audience)' },
  FORBIDDEN: { status: 403, title: 'Forbidden', when: "the token lacks the route's scope (or `includeKey` without admin)" },
  NAME_NOT_ALLOWED: { status: 403, title: 'Name not allowed for this caller', when: "a name the certificate carries (CN, DNS, IP, URI or SPIFFE SAN) is outside the caller's patterns" },
  POLICY_DENIED: { status: 403, title: 'Refused by the caller\'s policy', when: 'the request is beyond the caller\'s policy; the detail names the rule (`maxValidity`, `keyAlgorithms`, `keyModes`)' },
  NOT_FOUND: { status: 404, title: 'Not found', when: 'no such route' },
  CERTIFICATE_NOT_FOUND: { status: 404, title: 'Certificate not found', when: 'no certificate for the name' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed', when: 'the path exists but not with this method; `Allow` lists the methods it has' },
  NOT_ACCEPTABLE: { status: 406, title: 'Not acceptable', when: '`/v1/ca` asked for an unsupported media type' },
  BODY_TOO_LARGE: { status: 413, title: 'Request body too large', when: 'body over `GATEWAY_BODY_LIMIT`, counted after decompression' },
  ROTATION_CONFLICT: {
    status: 409,
    title: 'Root rotation action refused',
    when: '`POST /v1/ca/rotation`: the action does not apply to the current stage, or its condition does not hold yet (the detail says which and when; `force` overrides a condition)',
  },
  ROTATION_UNSUPPORTED: { status: 409, title: 'Root rotation not supported by this provider', when: '`POST /v1/ca/rotation` with Vault or cert-manager: rotate the root in the backend; the bundle follows it' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type', when: 'a body that is not UTF-8 `application/json`, or a `Content-Encoding` other than gzip, deflate, br or identity' },
  RATE_LIMITED: { status: 429, title: 'Too many requests', when: "the caller's rate (policy rule `rate`) is spent, its client address failed authentication too often, or it holds its limit of event streams; `Retry-After` says when to retry" },
  RECORD_UNREADABLE: {
    status: 500,
    title: 'Stored certificate record unreadable',
    when: 'the stored record of that name cannot be read (damaged, or written by another version); delete it and issue it again — see [Unreadable records](#unreadable-records)',
  },
  INTERNAL: { status: 500, title: 'Internal server error', when: "a bug; the detail is generic, the cause is in the gateway's log" },
  ISSUANCE_FAILED: { status: 502, title: 'Issuance failed', when: 'the CA backend failed the job after its retries' },
  BACKEND_UNAVAILABLE: { status: 503, title: 'Backend unavailable', when: 'Redis / the queue / the Kubernetes TokenReview API is unreachable, no trust bundle yet, or the gateway serves its limit of event streams; `Retry-After`' },
  NOT_READY: { status: 503, title: 'Not ready', when: '`/readyz` only' },
  ISSUANCE_TIMEOUT: { status: 504, title: 'Issuance timed out', when: 'no result within `GATEWAY_ISSUE_TIMEOUT`; a job no worker had started is withdrawn' },
} as const satisfies Record<string, ProblemCodeInfo>;

export type ProblemCode = keyof typeof PROBLEM_CODES;
export const PROBLEM_CODE_NAMES = Object.keys(PROBLEM_CODES) as ProblemCode[];

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const TYPE_BASE = 'https://fsm-certs.dev/problems/';

/** The `type` URI of a code: INVALID_NAME -> https://fsm-certs.dev/problems/invalid-name. */
export function problemType(code: string): string {
  return TYPE_BASE + code.toLowerCase().replaceAll('_', '-');
}

/** RFC 9457 problem details, with the stable `code` (ours, or a ca-service item code). */
export const problemSchema = z
  .object({
    type: z.string().regex(/^https:\/\/\S+$/),
    title: z.string().min(1),
    status: z.int().min(400).max(599),
    detail: z.string().min(1),
    code: z
      .string()
      .regex(/^[A-Z][A-Z0-9_]*$/)
      .meta({ description: `Stable: ${PROBLEM_CODE_NAMES.join(', ')}, or a ca-service item code passed through with its own status.` }),
  })
  .meta({ id: 'Problem', description: 'An error (RFC 9457). Retry-After accompanies 429 and 503; Allow accompanies 405.' });
export type Problem = z.infer<typeof problemSchema>;

/** 503 of /readyz: the problem plus each readiness check's outcome ("ok" or why not). */
export const notReadyProblemSchema = problemSchema.extend({ checks: z.record(z.string(), z.string()) }).meta({ id: 'NotReadyProblem' });
