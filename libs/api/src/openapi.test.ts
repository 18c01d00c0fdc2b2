// The generated OpenAPI document is usable by tools nobody here wrote: Ajv (JSON Schema 2020-12,
// the dialect of OpenAPI 3.1) compiles every schema in it, and those compiled schemas agree with
// the zod schemas they came from on requests and answers a client would send and receive.
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from './openapi.js';
import { OPERATIONS, allowedMethods, problemStatuses, type OperationSpec } from './operations.js';
import { PROBLEM_CODES, problemSchema, problemType } from './problems.js';
import { issueRequestSchema } from './requests.js';

type Json = Record<string, unknown>;
const doc = openApiDocument;

function ajvForDocument(): Ajv2020 {
  const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
  ajv.addSchema({ $id: 'doc', components: doc.components });
  return ajv;
}
const ajv = ajvForDocument();
const ref = (name: string): Json => ({ $ref: `doc#/components/schemas/${name}` });

describe('the generated OpenAPI document', () => {
  it('has one operation per OPERATIONS entry, under its path and method', () => {
    const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((k) => !k.startsWith('x-'))
        .map((method) => `${method} ${path} ${String((item[method] as Json)['operationId'])}`),
    );
    const table = Object.entries(OPERATIONS as Record<string, OperationSpec>).map(([id, op]) => `${op.method} ${op.path} ${id}`);
    expect(documented.sort()).toEqual(table.sort());
  });

  it('resolves every $ref', () => {
    const text = JSON.stringify(openApiDocument);
    const refs = [...text.matchAll(/"\$ref":"#\/components\/(\w+)\/(\w+)"/g)];
    expect(refs.length).toBeGreaterThan(10);
    const components = doc.components as unknown as Record<string, Record<string, unknown>>;
    for (const [, group = '', name = ''] of refs) expect(components[group]?.[name], `${group}/${name}`).toBeDefined();
  });

  it('compiles with Ajv, and its IssueRequest agrees with the zod schema on a table of bodies', () => {
    const validate = ajv.compile(ref('IssueRequest'));
    const bodies: unknown[] = [
      { commonName: 'bookstore-v2.bookstore.cluster.local' },
      { commonName: '*.example.com', sans: ['10.0.0.7', '::1', 'spiffe://cluster.local/ns/a/sa/b', 'a.b'] },
      { commonName: 'a.b', validity: '1h30m', keyAlgorithm: 'rsa-2048', spiffe: { namespace: 'ns', serviceAccount: 'sa' } },
      { commonName: 'a.b', spiffe: { namespace: '..', serviceAccount: 'sa' } },
      { commonName: 'a.b', validity: '24 hours' },
      { commonName: 'a.b', keyAlgorithm: 'dsa-1024' },
      { commonName: 'bad name!' },
      { commonName: '' },
      { commonName: 'a.b', ttl: '1h' },
      { commonName: 'a.b', sans: ['not a name'] },
      { commonName: 'a.b', csr: '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n' },
      { commonName: 'a.b', csr: 'AAAA' },
      { commonName: 'a.b', sans: ['fe80::1%eth0'] },
      [],
    ];
    for (const body of bodies) expect(validate(body), JSON.stringify(body)).toBe(issueRequestSchema.safeParse(body).success);
  });

  it('describes every problem body the gateway sends', () => {
    const validate = ajv.compile(ref('Problem'));
    for (const [code, info] of Object.entries(PROBLEM_CODES)) {
      const body = { type: problemType(code), title: info.title, status: info.status, detail: 'Something to do.', code };
      expect(validate(body), code).toBe(true);
      expect(problemSchema.safeParse(body).success).toBe(true);
    }
    expect(validate({ type: 'x', title: 't', status: 200, detail: 'd', code: 'X' })).toBe(false);
  });

  it('lists problem responses for authentication on every tokened operation, and Allow per path', () => {
    for (const op of Object.values(OPERATIONS) as OperationSpec[]) {
      const responses = (doc.paths[op.path]?.[op.method] as Json)['responses'] as Json;
      for (const status of problemStatuses(op)) expect(responses[String(status)], `${op.method} ${op.path} ${status}`).toBeDefined();
      if (op.access !== 'public') expect(Object.keys(responses)).toEqual(expect.arrayContaining(['401', '403', '429']));
    }
    expect(allowedMethods('/v1/certificates')).toEqual(['GET', 'HEAD', 'POST']);
    expect(allowedMethods('/v1/certificates/{cn}')).toEqual(['DELETE', 'GET', 'HEAD']);
    expect(doc.paths['/v1/certificates/{cn}/rotate']?.['x-allow']).toEqual(['POST']);
  });
});
