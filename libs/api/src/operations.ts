// Every operation of the issuer-gateway, in one table: method, path, who may call it, its
// parameters, body and responses, each a zod schema. The gateway registers one handler per entry
// (its handler map is typed by this table, so a missing handler does not compile), validates
// with these schemas, and serves the OpenAPI document generated from them (openapi.ts).
// Adding a route is: one entry here, one handler in the gateway.
import type { z } from 'zod';
import { PROBLEM_CONTENT_TYPE, notReadyProblemSchema } from './problems.js';
import { auditPageSchema, auditQuerySchema } from './audit.js';
import {
  certificatePathSchema,
  eventsHeadersSchema,
  eventsQuerySchema,
  getQuerySchema,
  issueRequestSchema,
  listQuerySchema,
} from './requests.js';
import {
  certificateListSchema,
  certificateSchema,
  healthSchema,
  openApiDocumentSchema,
  readySchema,
  textSchema,
  trustBundleSchema,
} from './responses.js';
import { rootRotationRequestSchema, rootRotationStatusSchema } from './rotation.js';

export type HttpMethod = 'get' | 'post' | 'delete';

/** `public`: no token. Otherwise the scope a caller needs (admin has every scope). */
export type Access = 'public' | 'read' | 'issue' | 'admin';

export interface ResponseHeaderSpec {
  readonly description: string;
  readonly schema: z.ZodType;
}

export interface ResponseSpec {
  readonly description: string;
  /** Media type -> body schema; absent for an empty body. */
  readonly content?: Readonly<Record<string, z.ZodType>>;
  readonly headers?: Readonly<Record<string, ResponseHeaderSpec>>;
}

export interface OperationSpec {
  readonly method: HttpMethod;
  /** OpenAPI path template, e.g. /v1/certificates/{cn}. */
  readonly path: string;
  readonly tags: readonly string[];
  readonly summary: string;
  readonly description?: string;
  readonly access: Access;
  readonly pathParams?: z.ZodObject;
  readonly query?: z.ZodObject;
  /** Request headers, by lower-case name. */
  readonly headers?: z.ZodObject;
  /** A JSON request body (application/json). */
  readonly body?: z.ZodType;
  /** Successful answers by status. */
  readonly responses: Readonly<Record<number, ResponseSpec>>;
  /**
   * Statuses answered with problem+json besides the ones every operation of its kind may answer
   * (see problemStatuses): route-specific refusals such as 404 or 406.
   */
  readonly problems: readonly number[];
  /** A problem status with a body of its own (e.g. /readyz's 503 carries `checks`). */
  readonly problemBodies?: Readonly<Record<number, z.ZodType>>;
}

const json = (schema: z.ZodType): Readonly<Record<string, z.ZodType>> => ({ 'application/json': schema });

export const OPERATIONS = {
  issueCertificate: {
    method: 'post',
    path: '/v1/certificates',
    tags: ['certificates'],
    summary: 'Issue a certificate (server-generated key, or CSR mode).',
    description:
      'Needs the `issue` scope and a name pattern covering commonName and every DNS SAN; IP and URI SANs need the `*` pattern. Concurrent requests are batched into one queue job; identical concurrent requests share one issuance. A request matching a still-valid certificate (same parameters) gets that certificate back. The body may be sent with Content-Encoding gzip, deflate or br; the body limit applies to the decoded size.',
    access: 'issue',
    body: issueRequestSchema,
    responses: {
      201: {
        description: 'Issued (or reused).',
        content: json(certificateSchema),
        headers: { Location: { description: 'The certificate\'s path: /v1/certificates/{cn}.', schema: textSchema } },
      },
    },
    problems: [400, 413, 415, 502, 503, 504],
  },
  listCertificates: {
    method: 'get',
    path: '/v1/certificates',
    tags: ['certificates'],
    summary: 'List certificates in name order (read scope). Never includes private keys.',
    description:
      'Lists only the certificates the caller could GET: all of them for a token with the `*` pattern, otherwise those every name of which (CN, DNS, IP, URI, SPIFFE) its patterns cover. A page may therefore hold fewer than `limit` items, even none, while `nextCursor` is not null: follow it to the end. `unreadable` names stored records that do not decode, when the caller\'s patterns cover their common name. With `overdue=true` it lists, by renew time, only the certificates at or past their renew time, and the cursor is the one that page handed out; with `unreadable=true` it only scans for records that do not decode (what `fsm-certs check` uses). Either answers 400 INVALID_QUERY with the other.',
    access: 'read',
    query: listQuerySchema,
    responses: { 200: { description: 'One page.', content: json(certificateListSchema) } },
    problems: [400, 503],
  },
  getCertificate: {
    method: 'get',
    path: '/v1/certificates/{cn}',
    tags: ['certificates'],
    summary: 'The current certificate for a name, from the inventory (read scope).',
    description:
      'Needs the `read` scope and name patterns covering every name the certificate carries (CN, DNS, IP, URI, SPIFFE); a token with the `*` pattern reads every certificate. A name outside the caller\'s patterns is 403 NAME_NOT_ALLOWED whether or not a certificate exists for it, so the answer does not reveal other callers\' certificates; a covered name whose certificate carries a name the caller does not cover is 403 NAME_NOT_ALLOWED without naming it. `includeKey=true` needs an admin token, and is refused for a wildcard certificate unless the admin\'s policy allows wildcards.',
    access: 'read',
    pathParams: certificatePathSchema,
    query: getQuerySchema,
    responses: { 200: { description: 'The certificate.', content: json(certificateSchema) } },
    // 500 RECORD_UNREADABLE: the stored record of that name does not decode.
    problems: [400, 404, 500, 503],
  },
  deleteCertificate: {
    method: 'delete',
    path: '/v1/certificates/{cn}',
    tags: ['certificates'],
    summary: 'Release a name: remove it from the inventory and announce `released` (issue scope covering the name).',
    description:
      'Needs name patterns covering every name of the stored certificate. A name outside the caller\'s patterns is 403 NAME_NOT_ALLOWED before anything is looked up, so it does not reveal whether a certificate exists.',
    access: 'issue',
    pathParams: certificatePathSchema,
    responses: { 204: { description: 'Removed.' } },
    problems: [400, 404, 503],
  },
  rotateCertificate: {
    method: 'post',
    path: '/v1/certificates/{cn}/rotate',
    tags: ['certificates'],
    summary: 'Re-issue the certificate now with its stored parameters (issue scope covering the name).',
    description:
      'Needs name patterns covering every name of the stored certificate, and a policy that allows its parameters. A name outside the caller\'s patterns is 403 NAME_NOT_ALLOWED before anything is looked up, so it does not reveal whether a certificate exists.',
    access: 'issue',
    pathParams: certificatePathSchema,
    responses: { 200: { description: 'The new certificate.', content: json(certificateSchema) } },
    problems: [400, 404, 500, 502, 503, 504],
  },
  getTrustBundle: {
    method: 'get',
    path: '/v1/ca',
    tags: ['ca'],
    summary: 'The trust bundle: PEM (default) or JSON by Accept. Public.',
    access: 'public',
    responses: {
      200: {
        description: 'The roots a workload should trust.',
        content: { 'application/x-pem-file': textSchema, 'text/plain': textSchema, 'application/json': trustBundleSchema },
      },
    },
    problems: [406, 503],
  },
  getRootRotation: {
    method: 'get',
    path: '/v1/ca/rotation',
    tags: ['ca'],
    summary: 'The staged root rotation: stage, both roots, live leaves chaining to each (admin).',
    description: 'Served from what the ca-service last published (it refreshes it every `CA_ROTATION_TICK`). Tresor only; with Vault or cert-manager the stage stays `idle` and the roots are the provider\'s.',
    access: 'admin',
    responses: { 200: { description: 'The rotation status.', content: json(rootRotationStatusSchema) } },
    problems: [503],
  },
  changeRootRotation: {
    method: 'post',
    path: '/v1/ca/rotation',
    tags: ['ca'],
    summary: 'Start, advance (activate, retire), pause, resume or roll back the staged root rotation (admin).',
    description:
      'The ca-service carries the action out and answers with the new status. `start` (idle or retired) generates a new root and trusts it beside the old one; `activate` (prepared or rolled-back) makes it sign after the propagation period; `retire` (activated) drops the old root once no live leaf chains to it and every ca-service signs with the new one; `rollback` before retire returns signing to the old root with both trusted (from prepared, or a second time from rolled-back once no live leaf chains to the new root, it removes the new root). 409 ROTATION_CONFLICT when the action does not apply to the stage or its condition does not hold (`force` overrides a condition); 409 ROTATION_UNSUPPORTED with Vault or cert-manager.',
    access: 'admin',
    body: rootRotationRequestSchema,
    responses: { 200: { description: 'The status after the action.', content: json(rootRotationStatusSchema) } },
    problems: [400, 409, 413, 415, 503, 504],
  },
  streamEvents: {
    method: 'get',
    path: '/v1/events',
    tags: ['events'],
    summary: 'Announcements as Server-Sent Events (read scope).',
    description:
      'Each event has `id:` (the stream id), `event:` (its kind) and `data:` (a CertEvent as JSON). A caller without the `*` pattern gets `issued`, `rotated` and `released` events only for common names its patterns cover (events carry the CN and serial, no other name); trust-bundle and root-rotation events go to every reader. Send `Last-Event-ID` (or ?lastEventId=) to resume after an id; without it only new events arrive. When events after that id were trimmed from the bounded stream, `event: reset` (no id; `data:` a StreamReset) comes before the oldest kept event: re-list the certificates. A `: subscribed` comment says the subscription is in place; `: keep-alive` comments keep the connection alive.',
    access: 'read',
    query: eventsQuerySchema,
    headers: eventsHeadersSchema,
    responses: { 200: { description: 'An endless event stream; each `data:` is a CertEvent.', content: { 'text/event-stream': textSchema } } },
    problems: [400],
  },
  listAudit: {
    method: 'get',
    path: '/v1/audit',
    tags: ['audit'],
    summary: 'The audit trail: every decision about a certificate, oldest first (admin scope).',
    description:
      'One record per decision: issued, reused, rotated, released, refused (with its code) and trust-bundle changes, with when, who (token name or system:serviceaccount:<ns>:<sa>), client address, request id, names, serial, validity, key algorithm, provider and issuer. Written before the request is answered; kept for `gateway.auditRetention` (default 720h). Never holds a key, token or CSR.',
    access: 'admin',
    query: auditQuerySchema,
    responses: { 200: { description: 'One page.', content: json(auditPageSchema) } },
    problems: [400, 503],
  },
  healthz: {
    method: 'get',
    path: '/healthz',
    tags: ['operations'],
    summary: 'Liveness.',
    access: 'public',
    responses: { 200: { description: 'The process serves HTTP.', content: json(healthSchema) } },
    problems: [],
  },
  readyz: {
    method: 'get',
    path: '/readyz',
    tags: ['operations'],
    summary: 'Readiness: Redis answers, the issue queue is reachable, a ca-service heartbeat is live.',
    access: 'public',
    responses: { 200: { description: 'Ready; `checks` lists each check.', content: json(readySchema) } },
    problems: [503],
    problemBodies: { 503: notReadyProblemSchema },
  },
  metrics: {
    method: 'get',
    path: '/metrics',
    tags: ['operations'],
    summary: 'Prometheus metrics.',
    access: 'public',
    responses: { 200: { description: 'Text exposition format.', content: { 'text/plain': textSchema } } },
    problems: [],
  },
  openapi: {
    method: 'get',
    path: '/openapi.json',
    tags: ['operations'],
    summary: 'This document.',
    access: 'public',
    responses: { 200: { description: 'OpenAPI 3.1.', content: json(openApiDocumentSchema) } },
    problems: [],
  },
} as const satisfies Record<string, OperationSpec>;

export type OperationId = keyof typeof OPERATIONS;
export const OPERATION_IDS = Object.keys(OPERATIONS) as OperationId[];

/** Every problem status an operation may answer: its own, plus authentication's for tokened routes. */
export function problemStatuses(op: OperationSpec): number[] {
  const statuses = new Set<number>(op.problems);
  if (op.access !== 'public') for (const s of [401, 403, 429]) statuses.add(s);
  // A path parameter that does not decode (a malformed percent-escape) or validate is a 400.
  if (op.pathParams !== undefined) statuses.add(400);
  return [...statuses].sort((a, b) => a - b);
}

/** The methods a path template has, upper-case, for `Allow` (HEAD wherever GET is). */
export function allowedMethods(path: string): string[] {
  const methods = new Set<string>();
  for (const op of Object.values(OPERATIONS) as OperationSpec[]) {
    if (op.path !== path) continue;
    methods.add(op.method.toUpperCase());
    if (op.method === 'get') methods.add('HEAD');
  }
  return [...methods].sort();
}

export { PROBLEM_CONTENT_TYPE };
