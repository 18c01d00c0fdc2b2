// What a caller sends: request bodies, path parameters, query parameters and headers. Query
// parameters are strings on the wire; their schemas read the text strictly and output the typed
// value, and the OpenAPI document describes that output (an integer, a boolean).
import { z } from 'zod';
import {
  FIELD_LIMITS,
  csrPemSchema,
  defaultKeyAlgorithmSchema,
  dnsNameSchema,
  spiffeRequestSchema,
  subjectAltNameSchema,
  validitySchema,
} from './fields.js';
import type { ProblemCode } from './problems.js';

export const issueRequestSchema = z
  .strictObject({
    commonName: dnsNameSchema.meta({
      description: 'The certificate\'s common name, always also a DNS SAN; lower-cased. A DNS name, optionally "*."-prefixed.',
      examples: ['bookstore-v2.bookstore.cluster.local'],
    }),
    sans: z
      .array(subjectAltNameSchema)
      .max(FIELD_LIMITS.sans)
      .optional()
      .meta({ description: 'Subject alternative names: each an IP address, an absolute URI ("scheme:..."), or a DNS name.' }),
    validity: validitySchema.optional(),
    keyAlgorithm: defaultKeyAlgorithmSchema.optional(),
    csr: csrPemSchema.optional(),
    spiffe: spiffeRequestSchema.optional(),
  })
  .meta({ id: 'IssueRequest', description: 'Unknown fields are refused.' });
export type IssueRequest = z.infer<typeof issueRequestSchema>;

/**
 * The problem code of a body field whose value is wrong (a wrong type, or an unknown field, is
 * INVALID_BODY). Part of the contract: clients branch on it.
 */
export const ISSUE_FIELD_PROBLEMS: Readonly<Partial<Record<keyof IssueRequest, ProblemCode>>> = {
  commonName: 'INVALID_NAME',
  sans: 'INVALID_NAME',
  validity: 'INVALID_DURATION',
  csr: 'INVALID_CSR',
  spiffe: 'INVALID_SPIFFE',
};

export const certificatePathSchema = z.object({
  cn: dnsNameSchema.meta({ description: 'Common name (a DNS name, case-insensitive), percent-encoded.' }),
});

export const MAX_PAGE = 1000;
export const DEFAULT_PAGE = 100;

/**
 * A cursor is a stored common name, or with overdue=true `<renew time ms>~<common name>`: bounded
 * and without whitespace, "/" or ":".
 */
export const cursorSchema = z
  .string()
  .max(253 + 18)
  .regex(/^[^\s/:]*$/, 'must be the nextCursor value of a previous page')
  .meta({ description: 'The nextCursor of the previous page; absent or empty for the first page.' });

export const listQuerySchema = z.object({
  limit: z
    .string()
    .regex(/^[0-9]{1,4}$/, `must be an integer 1..${MAX_PAGE}`)
    .transform(Number)
    .pipe(z.int().min(1).max(MAX_PAGE))
    .optional()
    .meta({ description: `Page size, 1..${MAX_PAGE}.`, default: DEFAULT_PAGE }),
  cursor: cursorSchema.optional(),
  overdue: z
    .stringbool({ truthy: ['true'], falsy: ['false'], case: 'sensitive' })
    .optional()
    .meta({
      description:
        'Only the certificates at or past their renew time (expired ones included), earliest renew time first, read from the renew-time index: the cost follows the overdue count, not the inventory size. Not with unreadable=true.',
      default: false,
    }),
  unreadable: z
    .stringbool({ truthy: ['true'], falsy: ['false'], case: 'sensitive' })
    .optional()
    .meta({
      description:
        'Scan `limit` stored records per page, in name order, and answer only the names of those that do not decode (`items` stays empty). Not with overdue=true.',
      default: false,
    }),
});

export const getQuerySchema = z.object({
  includeKey: z
    .stringbool({ truthy: ['true'], falsy: ['false'], case: 'sensitive' })
    .optional()
    .meta({ description: 'Admin tokens only: include the server-generated private key. Other tokens get 403.', default: false }),
});

/** A Redis stream id, as sent in `id:` lines of the event stream. */
export const eventIdSchema = z
  .string()
  .regex(/^(?:\d{1,20}-\d{1,20}|\d{1,20})$/, 'must be an event id received from this stream (like 1700000000000-0)');

export const eventsQuerySchema = z.object({
  lastEventId: eventIdSchema.optional().meta({ description: 'Resume after this event id (for clients that cannot set Last-Event-ID).' }),
});

export const eventsHeadersSchema = z.object({
  'last-event-id': eventIdSchema.optional().meta({ description: 'Resume after this event id; wins over ?lastEventId.' }),
});
