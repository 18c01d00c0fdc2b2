// The OpenAPI 3.1 description of the gateway, served at /openapi.json. A test checks that every
// express route is described here and every path here is routed, so the two cannot drift.
import { DEFAULT_KEY_ALGORITHM, KEY_ALGORITHMS } from '@fsm-certs/core';

const problem = { $ref: '#/components/responses/Problem' };
const bearer = [{ bearerAuth: [] }];
const cnParam = { name: 'cn', in: 'path', required: true, description: 'Common name (DNS name, case-insensitive).', schema: { type: 'string', maxLength: 253 } };

const errors = (...statuses: number[]): Record<string, unknown> => Object.fromEntries(statuses.map((s) => [String(s), problem]));

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'fsm-certs issuer-gateway',
    version: '1.0.0',
    description:
      'Issues, serves, rotates and announces mTLS certificates for a service mesh. Errors are application/problem+json with a stable `code`.',
  },
  servers: [{ url: 'http://127.0.0.1:8080' }],
  security: bearer,
  tags: [{ name: 'certificates' }, { name: 'ca' }, { name: 'events' }, { name: 'operations' }],
  paths: {
    '/v1/certificates': {
      post: {
        tags: ['certificates'],
        summary: 'Issue a certificate (server-generated key, or CSR mode).',
        description:
          'Needs the `issue` scope and a name pattern covering commonName and every DNS SAN; IP and URI SANs need the `*` pattern. Concurrent requests are batched into one queue job; identical concurrent requests share one issuance. A request matching a still-valid certificate (same parameters) gets that certificate back.',
        operationId: 'issueCertificate',
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/IssueRequest' } } } },
        responses: {
          '201': { description: 'Issued (or reused).', content: { 'application/json': { schema: { $ref: '#/components/schemas/Certificate' } } } },
          ...errors(400, 401, 403, 413, 415, 429, 502, 503, 504),
        },
      },
      get: {
        tags: ['certificates'],
        summary: 'List certificates in name order (read scope). Never includes private keys.',
        operationId: 'listCertificates',
        parameters: [
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
          { name: 'cursor', in: 'query', description: 'nextCursor of the previous page.', schema: { type: 'string' } },
        ],
        responses: {
          '200': { description: 'One page.', content: { 'application/json': { schema: { $ref: '#/components/schemas/CertificateList' } } } },
          ...errors(400, 401, 403, 429, 503),
        },
      },
    },
    '/v1/certificates/{cn}': {
      get: {
        tags: ['certificates'],
        summary: 'The current certificate for a name, from the inventory (read scope).',
        operationId: 'getCertificate',
        parameters: [
          cnParam,
          {
            name: 'includeKey',
            in: 'query',
            description: 'Admin tokens only: include the server-generated private key. Other tokens get 403.',
            schema: { type: 'boolean', default: false },
          },
        ],
        responses: {
          '200': { description: 'The certificate.', content: { 'application/json': { schema: { $ref: '#/components/schemas/Certificate' } } } },
          ...errors(400, 401, 403, 404, 429, 503),
        },
      },
      delete: {
        tags: ['certificates'],
        summary: 'Release a name: remove it from the inventory and announce `released` (issue scope covering the name).',
        operationId: 'deleteCertificate',
        parameters: [cnParam],
        responses: { '204': { description: 'Removed.' }, ...errors(400, 401, 403, 404, 429, 503) },
      },
    },
    '/v1/certificates/{cn}/rotate': {
      post: {
        tags: ['certificates'],
        summary: 'Re-issue the certificate now with its stored parameters (issue scope covering the name).',
        operationId: 'rotateCertificate',
        parameters: [cnParam],
        responses: {
          '200': { description: 'The new certificate.', content: { 'application/json': { schema: { $ref: '#/components/schemas/Certificate' } } } },
          ...errors(400, 401, 403, 404, 429, 502, 503, 504),
        },
      },
    },
    '/v1/ca': {
      get: {
        tags: ['ca'],
        summary: 'The trust bundle: PEM (default) or JSON by Accept. Public.',
        operationId: 'getTrustBundle',
        security: [],
        responses: {
          '200': {
            description: 'The roots a workload should trust.',
            content: {
              'application/x-pem-file': { schema: { type: 'string' } },
              'application/json': { schema: { $ref: '#/components/schemas/TrustBundle' } },
            },
          },
          ...errors(406, 503),
        },
      },
    },
    '/v1/events': {
      get: {
        tags: ['events'],
        summary: 'Announcements as Server-Sent Events (read scope).',
        description:
          'Each event has `id:` (the stream id), `event:` (issued | rotated | released | trust-bundle-changed | root-rotation-stage) and `data:` (JSON). Send `Last-Event-ID` (or ?lastEventId=) to resume after an id; without it only new events arrive. Comment lines keep the connection alive.',
        operationId: 'streamEvents',
        parameters: [
          { name: 'Last-Event-ID', in: 'header', schema: { type: 'string', pattern: '^\\d+(-\\d+)?$' } },
          { name: 'lastEventId', in: 'query', schema: { type: 'string', pattern: '^\\d+(-\\d+)?$' } },
        ],
        responses: { '200': { description: 'An endless event stream.', content: { 'text/event-stream': { schema: { type: 'string' } } } }, ...errors(400, 401, 403, 429) },
      },
    },
    '/healthz': {
      get: { tags: ['operations'], summary: 'Liveness.', operationId: 'healthz', security: [], responses: { '200': { description: 'The process serves HTTP.' } } },
    },
    '/readyz': {
      get: {
        tags: ['operations'],
        summary: 'Readiness: Redis answers, the issue queue is reachable, a ca-service heartbeat is live.',
        operationId: 'readyz',
        security: [],
        responses: { '200': { description: 'Ready; `checks` lists each check.' }, '503': problem },
      },
    },
    '/metrics': {
      get: {
        tags: ['operations'],
        summary: 'Prometheus metrics.',
        operationId: 'metrics',
        security: [],
        responses: { '200': { description: 'Text exposition format.', content: { 'text/plain': { schema: { type: 'string' } } } } },
      },
    },
    '/openapi.json': {
      get: { tags: ['operations'], summary: 'This document.', operationId: 'openapi', security: [], responses: { '200': { description: 'OpenAPI 3.1.' } } },
    },
  },
  components: {
    securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'A token from GATEWAY_TOKENS or GATEWAY_ADMIN_TOKEN.' } },
    responses: {
      Problem: {
        description: 'An error (RFC 9457). Retry-After accompanies 429 and 503.',
        headers: { 'Retry-After': { schema: { type: 'integer' } } },
        content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
      },
    },
    schemas: {
      IssueRequest: {
        type: 'object',
        additionalProperties: false,
        required: ['commonName'],
        properties: {
          commonName: { type: 'string', maxLength: 253, examples: ['bookstore-v2.bookstore.cluster.local'] },
          sans: { type: 'array', maxItems: 100, items: { type: 'string' }, description: 'DNS names, IP addresses or URIs.' },
          validity: { type: 'string', description: 'Go duration, at least 10m; default serviceCertValidityDuration (24h).', examples: ['24h', '1h30m'] },
          keyAlgorithm: { type: 'string', enum: [...KEY_ALGORITHMS], default: DEFAULT_KEY_ALGORITHM },
          csr: { type: 'string', description: 'PEM CSR: only its public key is used; the identity comes from commonName/sans.' },
          spiffe: {
            description: 'Add a SPIFFE URI SAN. `true` derives it from a <sa>.<ns>.<trustDomain> commonName.',
            oneOf: [
              { type: 'boolean' },
              {
                type: 'object',
                additionalProperties: false,
                required: ['namespace', 'serviceAccount'],
                properties: { namespace: { type: 'string' }, serviceAccount: { type: 'string' } },
              },
            ],
          },
        },
      },
      Certificate: {
        type: 'object',
        required: ['commonName', 'serialNumber', 'certificate', 'chain', 'issuingCA', 'trustedCAs', 'notBefore', 'notAfter', 'renewAt'],
        properties: {
          commonName: { type: 'string' },
          serialNumber: { type: 'string', description: 'Lowercase hex.' },
          certificate: { type: 'string', description: 'Leaf PEM.' },
          chain: { type: 'array', items: { type: 'string' }, description: 'Intermediates between leaf and root (may be empty).' },
          issuingCA: { type: 'string' },
          trustedCAs: { type: 'array', items: { type: 'string' } },
          notBefore: { type: 'string', format: 'date-time' },
          notAfter: { type: 'string', format: 'date-time' },
          renewAt: { type: 'string', format: 'date-time' },
          keyAlgorithm: { type: 'string' },
          mode: { type: 'string', enum: ['server-key', 'csr'] },
          dnsNames: { type: 'array', items: { type: 'string' } },
          uris: { type: 'array', items: { type: 'string' } },
          ipAddresses: { type: 'array', items: { type: 'string' } },
          privateKey: { type: 'string', description: 'PKCS#8 PEM; only for server-generated keys in issue/rotate answers (or admin includeKey).' },
          warnings: { type: 'array', items: { type: 'string' } },
        },
      },
      CertificateList: {
        type: 'object',
        required: ['items', 'nextCursor'],
        properties: {
          items: { type: 'array', items: { $ref: '#/components/schemas/Certificate' } },
          nextCursor: { type: ['string', 'null'], description: 'Pass as cursor for the next page; null on the last page.' },
        },
      },
      TrustBundle: {
        type: 'object',
        required: ['issuingCA', 'trustedCAs', 'rootNotAfter', 'updatedAt'],
        properties: {
          issuingCA: { type: 'string' },
          trustedCAs: { type: 'array', items: { type: 'string' } },
          rootNotAfter: { type: 'string', format: 'date-time' },
          updatedAt: { type: 'string', format: 'date-time' },
        },
      },
      Problem: {
        type: 'object',
        required: ['type', 'title', 'status', 'detail', 'code'],
        properties: {
          type: { type: 'string', format: 'uri' },
          title: { type: 'string' },
          status: { type: 'integer' },
          detail: { type: 'string' },
          code: {
            type: 'string',
            description:
              'Stable: INVALID_BODY, INVALID_NAME, INVALID_DURATION, INVALID_CSR, INVALID_SPIFFE, INVALID_QUERY, UNAUTHENTICATED, FORBIDDEN, NAME_NOT_ALLOWED, NOT_FOUND, CERTIFICATE_NOT_FOUND, NOT_ACCEPTABLE, BODY_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE, RATE_LIMITED, ISSUANCE_FAILED, BACKEND_UNAVAILABLE, ISSUANCE_TIMEOUT, NOT_READY, INTERNAL, or a ca-service item code.',
          },
        },
      },
    },
  },
} as const;
