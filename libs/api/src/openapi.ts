// The OpenAPI 3.1 document, generated from OPERATIONS and the zod schemas with z.toJSONSchema:
// what /openapi.json serves is what the gateway validates with, by construction. Request
// bodies are described as input, responses and parameters as output (a query `limit` is an
// integer after the server read its digits).
import { z } from 'zod';
import { OPERATIONS, allowedMethods, problemStatuses, type OperationSpec } from './operations.js';
import { PROBLEM_CODES, PROBLEM_CONTENT_TYPE } from './problems.js';

type Json = Record<string, unknown>;
type Io = 'input' | 'output';

const COMPONENT = '#/components/schemas/';

/** A schema's component name: the `id` its definition gives it with .meta({ id }). */
function idOf(schema: z.ZodType): string | undefined {
  const id = z.globalRegistry.get(schema)?.id;
  return typeof id === 'string' ? id : undefined;
}

/** Rewrites zod's local `#/$defs/X` references to components and drops what OpenAPI does not need. */
function relink(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(relink);
  if (value === null || typeof value !== 'object') return value;
  const out: Json = {};
  for (const [key, inner] of Object.entries(value)) {
    if (key === '$schema' || key === '$defs' || key === '$id') continue;
    out[key] = key === '$ref' && typeof inner === 'string' ? inner.replace('#/$defs/', COMPONENT) : relink(inner);
  }
  return out;
}

function schemaOf(schema: z.ZodType, io: Io): Json {
  const id = idOf(schema);
  if (id !== undefined) return { $ref: COMPONENT + id };
  return relink(z.toJSONSchema(schema, { io, unrepresentable: 'throw' })) as Json;
}

/** Every schema with an id as a component, each referring to the others by component path. */
function components(io: Io): Record<string, Json> {
  const all = z.toJSONSchema(z.globalRegistry, { io, uri: (id) => COMPONENT + id, unrepresentable: 'throw' });
  return Object.fromEntries(Object.entries(all.schemas).map(([id, schema]) => [id, relink(schema) as Json]));
}

function isOptional(schema: z.ZodType): boolean {
  return schema.safeParse(undefined).success;
}

function parameters(op: OperationSpec): Json[] {
  const out: Json[] = [];
  const add = (where: 'path' | 'query' | 'header', shape: z.ZodObject | undefined): void => {
    if (shape === undefined) return;
    for (const [name, schema] of Object.entries(shape.shape as Record<string, z.ZodType>)) {
      const { description, ...rest } = schemaOf(schema, 'output');
      out.push({
        name: where === 'header' ? name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase()).replace(/Id$/, 'ID') : name,
        in: where,
        required: where === 'path' || !isOptional(schema),
        ...(typeof description === 'string' ? { description } : {}),
        schema: rest,
      });
    }
  };
  add('path', op.pathParams);
  add('query', op.query);
  add('header', op.headers);
  return out;
}

function responses(op: OperationSpec): Json {
  const out: Json = {};
  for (const [status, spec] of Object.entries(op.responses)) {
    out[status] = {
      description: spec.description,
      ...(spec.headers === undefined
        ? {}
        : { headers: Object.fromEntries(Object.entries(spec.headers).map(([name, h]) => [name, { description: h.description, schema: schemaOf(h.schema, 'output') }])) }),
      ...(spec.content === undefined
        ? {}
        : { content: Object.fromEntries(Object.entries(spec.content).map(([type, schema]) => [type, { schema: schemaOf(schema, 'output') }])) }),
    };
  }
  for (const status of problemStatuses(op)) {
    const own = op.problemBodies?.[status];
    out[String(status)] =
      own === undefined
        ? { $ref: '#/components/responses/Problem' }
        : { description: 'A problem with details.', content: { [PROBLEM_CONTENT_TYPE]: { schema: schemaOf(own, 'output') } } };
  }
  return out;
}

function operation(id: string, op: OperationSpec): Json {
  return {
    operationId: id,
    tags: op.tags,
    summary: op.summary,
    ...(op.description === undefined ? {} : { description: op.description }),
    ...(op.access === 'public' ? { security: [] } : { 'x-scope': op.access }),
    ...(op.pathParams === undefined && op.query === undefined && op.headers === undefined ? {} : { parameters: parameters(op) }),
    ...(op.body === undefined ? {} : { requestBody: { required: true, content: { 'application/json': { schema: schemaOf(op.body, 'input') } } } }),
    responses: responses(op),
  };
}

/** The document's shape, as far as code reading it relies on. */
export interface OpenApiDocument {
  readonly openapi: '3.1.0';
  readonly info: Json;
  /** Path -> method -> operation object, plus `x-allow`: the methods the path has. */
  readonly paths: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly components: { readonly schemas: Readonly<Record<string, Json>>; readonly responses: Json; readonly securitySchemes: Json };
  readonly [key: string]: unknown;
}

function buildDocument(): OpenApiDocument {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [id, op] of Object.entries(OPERATIONS) as Array<[string, OperationSpec]>) {
    paths[op.path] = { ...paths[op.path], [op.method]: operation(id, op) };
  }
  for (const [path, item] of Object.entries(paths)) item['x-allow'] = allowedMethods(path);
  // Request bodies as the caller writes them, everything else as the server writes it.
  const asInput = components('input');
  const asOutput = components('output');
  const inputIds = new Set([idOf(OPERATIONS.issueCertificate.body)]);
  const schemas: Record<string, Json> = {};
  for (const [id, schema] of Object.entries(asOutput)) schemas[id] = (inputIds.has(id) ? asInput[id] : undefined) ?? schema;
  return {
    openapi: '3.1.0',
    info: {
      title: 'fsm-certs issuer-gateway',
      version: '1.0.0',
      description:
        'Issues, serves, rotates and announces mTLS certificates for a service mesh. Errors are application/problem+json with a stable `code`. A method a path does not have is answered 405 with `Allow` (listed per path as `x-allow`).',
    },
    servers: [{ url: 'http://127.0.0.1:8080' }],
    security: [{ bearerAuth: [] }],
    tags: [{ name: 'certificates' }, { name: 'ca' }, { name: 'events' }, { name: 'operations' }],
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'A token from GATEWAY_TOKENS or GATEWAY_ADMIN_TOKEN; `x-scope` names the scope an operation needs.' } },
      responses: {
        Problem: {
          description: `An error (RFC 9457). Codes: ${Object.entries(PROBLEM_CODES)
            .map(([code, info]) => `${code} (${info.status})`)
            .join(', ')}.`,
          headers: {
            'Retry-After': { description: 'Seconds; with 429 and 503.', schema: { type: 'integer', minimum: 1 } },
            Allow: { description: 'With 405: the methods the path has.', schema: { type: 'string' } },
          },
          content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: `${COMPONENT}Problem` } } },
        },
      },
      schemas,
    },
  };
}

/** The document served at /openapi.json (built once; it only depends on the schemas). */
export const openApiDocument: OpenApiDocument = buildDocument();
