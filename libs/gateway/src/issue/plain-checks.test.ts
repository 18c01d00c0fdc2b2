// The hand-written checks in front of zod on the issue path (plainIssueBody, isPlainIssueItem):
// whatever they let through, the schema accepts and returns equal; whatever else is sent still
// goes through the schema, so every refusal keeps its code and message. And the everyday
// request really skips zod, which is what they are for.
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { issueRequestSchema, openApiDocument } from '@fsm-certs/api';
import { issueItemSchema, type IssueItem } from '@fsm-certs/queue';
import { GatewayError } from '../errors.js';
import { mutated, valid, type SchemaContext } from '../testing/schema-arbitrary.test-helpers.js';
import { Authenticator, sha256Hex } from '../auth/tokens.js';
import { checkIssueItem, isPlainIssueItem } from './checked-item.js';
import { buildIssueItem, parseIssueBody, parseValidity, plainIssueBody } from './issue-request.js';
import { parseDurationMs } from '@fsm-certs/core';

type Json = Record<string, unknown>;

const doc = openApiDocument as unknown as { components: { schemas: Record<string, Json> } };
const schemas: SchemaContext = {
  resolve(ref: string): Json {
    const name = ref.replace('#/components/schemas/', '');
    const schema = doc.components.schemas[name];
    if (schema === undefined) throw new Error(`no schema ${name}`);
    return schema;
  },
  seeds: {
    sans: fc.array(fc.constantFrom('1.2.3.4', '256.1.1.1', '::1', 'FE80::1', 'spiffe://cluster.local/ns/a/sa/b', 'https://x', 'a..b', '-a.b', 'A.B', '*.a.b', 'x'.repeat(254), 'a.'.repeat(126) + 'b', 'a.'.repeat(126) + 'bb'), { maxLength: 4 }),
    validity: fc.constantFrom('24h', '1h30m', '.5h', '+10m', '1.5h', '0', '10x', '', 'h', '9'.repeat(70) + 'h'),
    commonName: fc.constantFrom('A.Example.COM', '*.bookstore.cluster.local', 'a'.repeat(63) + '.b', 'a'.repeat(64) + '.b', 'a.'.repeat(126) + 'b', 'a.'.repeat(126) + 'bb', 'a.'.repeat(127) + 'b', 'x y', 'a:b', 'é.b'),
  },
};
const issueRequest: Json = { $ref: '#/components/schemas/IssueRequest' };
const properties = schemas.resolve('#/components/schemas/IssueRequest')['properties'] as Record<string, Json>;
/** A field drawn from its published schema, or from the seeds (mostly valid, some near misses). */
function field(name: string): fc.Arbitrary<unknown> {
  const schema = properties[name];
  const seed = schemas.seeds?.[name];
  if (schema === undefined || seed === undefined) throw new Error(`no field ${name}`);
  return fc.oneof(valid(schema, schemas), seed);
}
/** Bodies of the plain shape (no csr, no spiffe), where the hand check has the most to decide. */
const plainShaped = fc.record(
  { commonName: field('commonName'), sans: field('sans'), validity: field('validity'), keyAlgorithm: fc.constantFrom('ecdsa-p256', 'rsa-4096', 'ecdsa-p384') },
  { requiredKeys: ['commonName'] },
);

/** Near misses written out: each differs from a plain body in one way. */
const NEAR_MISSES: unknown[] = [
  undefined,
  null,
  [],
  'x',
  {},
  { commonName: 'a.b', extra: 1 },
  JSON.parse('{"commonName":"a.b","__proto__":{"x":1}}'),
  Object.assign(Object.create(null) as object, { commonName: 'a.b' }),
  { commonName: 'a.b', sans: 'a.c' },
  { commonName: 'a.b', sans: Array.from({ length: 101 }, (_, i) => `s${i}.b`) },
  { commonName: 'a.b', sans: [1] },
  { commonName: 'a.b', sans: [null] },
  { commonName: 'a.b', validity: 24 },
  { commonName: 'a.b', validity: '1d' },
  { commonName: 'a.b', keyAlgorithm: 'ecdsa-p384' },
  { commonName: 'a.b', keyAlgorithm: 'ECDSA-P256' },
  { commonName: 'a.b', csr: 'x' },
  { commonName: 'a.b', spiffe: true },
  { commonName: 'a_b.c' },
  { commonName: 'a.b.' },
  { commonName: '' },
  { commonName: 7 },
];

function outcome(body: unknown): unknown {
  try {
    return { ok: parseIssueBody(body) };
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    return { code: error.code, message: error.message };
  }
}

describe('plainIssueBody', () => {
  it('lets through only bodies the schema accepts, as the schema returns them', () => {
    let taken = 0;
    const check = (body: unknown): void => {
      const plain = plainIssueBody(body);
      if (plain === undefined) return;
      taken++;
      const parsed = issueRequestSchema.safeParse(body);
      expect(parsed.success).toBe(true);
      expect(plain).toEqual(parsed.data);
    };
    for (const body of NEAR_MISSES) check(body);
    fc.assert(fc.property(
        fc.oneof({ weight: 4, arbitrary: plainShaped }, { weight: 1, arbitrary: valid(issueRequest, schemas) }, { weight: 1, arbitrary: mutated(issueRequest, schemas) }),
        check,
      ), { numRuns: 3000 });
    // Not vacuous: ~180 of the 3,000 are taken on average; 30 leaves room for any seed.
    expect(taken).toBeGreaterThan(30);
  });

  it('leaves every near miss to the schema, which refuses it with its own code and message', () => {
    for (const body of NEAR_MISSES) {
      expect(plainIssueBody(body)).toBeUndefined();
      const parsed = issueRequestSchema.safeParse(body);
      if (!parsed.success) expect(outcome(body)).toMatchObject({ code: expect.stringMatching(/^INVALID_/) });
    }
    expect(outcome({ commonName: 'a.b', validity: 24 })).toEqual({ code: 'INVALID_BODY', message: 'Invalid request: validity: Invalid input: expected string, received number.' });
    expect(outcome({ commonName: 'a.b', keyAlgorithm: 'ecdsa-p384' })).toMatchObject({ code: 'INVALID_BODY' });
    expect(outcome({ commonName: 'a.b', validity: '1d' })).toMatchObject({ code: 'INVALID_DURATION' });
    expect(outcome({ commonName: 'a_b.c' })).toMatchObject({ code: 'INVALID_NAME' });
    expect(outcome(null)).toEqual({ code: 'INVALID_BODY', message: 'Send a JSON object with at least "commonName" (Content-Type: application/json).' });
  });

  it('takes the everyday bodies: a name, DNS and IP SANs, a validity and a key algorithm', () => {
    for (const body of [
      { commonName: 'bench-1.bench.cluster.local', keyAlgorithm: 'ecdsa-p256', validity: '24h' },
      { commonName: 'Bookstore-V2.bookstore.cluster.local', sans: ['bookstore', '10.0.0.1', 'fd00::1'] },
      { commonName: '*.bookstore.cluster.local', validity: '1h30m', keyAlgorithm: 'rsa-2048' },
    ]) {
      expect(plainIssueBody(body)).toEqual(issueRequestSchema.parse(body));
    }
  });
});

const UUIDS = ['123e4567-e89b-42d3-a456-426614174000', '123E4567-E89B-42D3-A456-426614174000', '00000000-0000-0000-0000-000000000000', 'not-a-uuid', '123e4567-e89b-92d3-a456-426614174000'];

/** Mostly the right value, sometimes one of the wrong ones. */
function mostly<T>(right: fc.Arbitrary<T>, wrong: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 6, arbitrary: right }, { weight: 1, arbitrary: wrong });
}

function itemArbitrary(): fc.Arbitrary<Record<string, unknown>> {
  const strings = (max: number): fc.Arbitrary<unknown> =>
    mostly(
      fc.oneof(fc.array(fc.string({ minLength: 1, maxLength: 6 }), { maxLength: 3 }), fc.array(fc.constant('x'.repeat(max)), { maxLength: 2 })),
      fc.oneof(
        fc.constant(['']),
        fc.constant(['x'.repeat(max + 1)]),
        fc.constant(Array.from({ length: 101 }, () => 'a')),
        fc.constant('a'),
        fc.constant([1]),
      ),
    );
  const required = fc.record({
    requestId: mostly(fc.uuid(), fc.constantFrom(...UUIDS, 7)),
    commonName: mostly(fc.constantFrom('a.b', '*.a.b', 'a_b', 'x'.repeat(253)), fc.oneof(fc.constantFrom('A.b', 'a/b', 'a b', 'a:b', '', 'x'.repeat(254)), fc.string({ maxLength: 8 }))),
    dnsNames: strings(253),
    uris: strings(2048),
    ipAddresses: strings(64),
    validityMs: mostly(fc.integer({ min: 1, max: 10 ** 9 }), fc.constantFrom(0, -1, 1.5, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, Number.NaN, '60000')),
    keyAlgorithm: mostly(fc.constantFrom('ecdsa-p256', 'rsa-2048', 'rsa-3072', 'rsa-4096'), fc.constantFrom('ecdsa-p384', undefined)),
    reason: mostly(fc.constantFrom('request', 'rotate-manual', 'rotate-scheduled', 'root-rotation'), fc.constant('other')),
  });
  const optional = fc.record(
    {
      csrPem: fc.constantFrom('-----BEGIN CERTIFICATE REQUEST-----\nx\n-----END CERTIFICATE REQUEST-----\n', ''),
      expectSerial: fc.constantFrom('ab', 'AB'),
      extra: fc.constant(1),
      audit: fc.oneof(
        fc.record({
          id: mostly(fc.constant('1764500000000-0000a1b2c3d4'), fc.constantFrom('1764500000000-0000A1B2C3D4', '17645-00', 7)),
          operation: mostly(fc.constant('issueCertificate'), fc.constantFrom('rotateCertificate', undefined)),
          caller: mostly(fc.constantFrom(null, 'ops', 'x'.repeat(300)), fc.constantFrom('x'.repeat(301), 7, undefined)),
          clientAddress: mostly(fc.constantFrom(null, '127.0.0.1', 'x'.repeat(64)), fc.constantFrom('x'.repeat(65), undefined)),
          requestId: mostly(fc.constantFrom('r-1', 'x'.repeat(128)), fc.constantFrom('x'.repeat(129), null)),
        }),
        fc.constantFrom(null, 'audit', { id: '1764500000000-0000a1b2c3d4', operation: 'issueCertificate', caller: null, clientAddress: null, requestId: 'r', extra: 1 }),
      ),
    },
    { requiredKeys: [] },
  );
  return fc.tuple(required, mostly(fc.constant({}), optional)).map(([r, o]) => ({ ...r, ...(o as object) }));
}

describe('isPlainIssueItem', () => {
  it('is true only for items the job contract accepts and returns unchanged', () => {
    let plain = 0;
    fc.assert(
      fc.property(itemArbitrary(), (item) => {
        const candidate = item as unknown as IssueItem;
        if (!isPlainIssueItem(candidate)) return;
        plain++;
        const parsed = issueItemSchema.safeParse(item);
        expect(parsed.success).toBe(true);
        expect(parsed.data).toEqual(item);
      }),
      { numRuns: 3000 },
    );
    // The property above says nothing if nothing is plain (~750 of the 3,000 are, on average).
    expect(plain).toBeGreaterThan(10);
  });

  it('leaves CSR items, serial guards, unknown fields and wrong values to the schema', () => {
    const base: IssueItem = {
      requestId: '123e4567-e89b-42d3-a456-426614174000',
      commonName: 'a.b',
      dnsNames: [],
      uris: [],
      ipAddresses: [],
      validityMs: 60_000,
      keyAlgorithm: 'ecdsa-p256',
      reason: 'request',
    };
    expect(isPlainIssueItem(base)).toBe(true);
    expect(isPlainIssueItem({ ...base, csrPem: 'x' })).toBe(false);
    expect(isPlainIssueItem({ ...base, expectSerial: 'ab' })).toBe(false);
    expect(isPlainIssueItem({ ...base, dnsNames: ['x'.repeat(254)] })).toBe(false);
    expect(isPlainIssueItem({ ...base, requestId: 'r-1' })).toBe(false);
    const refused = checkIssueItem({ ...base, dnsNames: ['x'.repeat(254)] });
    expect(refused.success).toBe(false);
  });
});

describe('the issue path of an everyday request', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('checks the body and the queue item without a zod parse, and a body with a URI SAN with one', () => {
    const bodyParse = vi.spyOn(issueRequestSchema, 'safeParse');
    const itemParse = vi.spyOn(issueItemSchema, 'safeParse');
    const principal = new Authenticator([{ name: 'ops', sha256: sha256Hex('t'), scopes: ['admin'], names: ['*'] }]).authenticate('Bearer t');
    const ctx = { principal, defaultValidityMs: 86_400_000, trustDomain: 'cluster.local', csrCheck: { verify: () => ({ keyAlgorithm: 'ecdsa-p256' as const }) } };
    const item = buildIssueItem({ commonName: 'bench-1.bench.cluster.local', keyAlgorithm: 'ecdsa-p256', validity: '24h' }, ctx);
    expect(checkIssueItem({ ...item, requestId: '123e4567-e89b-42d3-a456-426614174000' }).success).toBe(true);
    const audit = { id: '1764500000000-0000a1b2c3d4', operation: 'issueCertificate' as const, caller: 'ops', clientAddress: '127.0.0.1', requestId: 'r-1' };
    expect(checkIssueItem({ ...item, requestId: '123e4567-e89b-42d3-a456-426614174001', audit }).success).toBe(true);
    expect(bodyParse).not.toHaveBeenCalled();
    expect(itemParse).not.toHaveBeenCalled();

    const withUri = buildIssueItem({ commonName: 'a.b', sans: ['https://a.b/x'] }, ctx);
    expect(withUri.uris).toEqual(['https://a.b/x']);
    expect(bodyParse).toHaveBeenCalledTimes(1);
  });
});

describe('parseValidity', () => {
  function validityOutcome(text: string): unknown {
    try {
      return { ms: parseValidity(text, 1) };
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error;
      return { code: error.code, message: error.message };
    }
  }

  it('reads a validity asked for again as it read it the first time: the same milliseconds, or the same refusal', () => {
    // More distinct texts than the gateway keeps, so they are also read after it forgot them.
    const texts = ['24h', '1h30m', '10m', '9m59s', '0', '1d', '-1h', '876000h', '876001h', ...Array.from({ length: 150 }, (_, i) => `${11 + i}m`)];
    const first = texts.map(validityOutcome);
    for (let round = 0; round < 2; round++) expect(texts.map(validityOutcome)).toEqual(first);
    expect(first.slice(0, 3)).toEqual([{ ms: parseDurationMs('24h') }, { ms: parseDurationMs('1h30m') }, { ms: 600_000 }]);
    expect(first.slice(3, 9).map((o) => (o as { code?: string }).code)).toEqual(['INVALID_DURATION', 'INVALID_DURATION', 'INVALID_DURATION', 'INVALID_DURATION', undefined, 'INVALID_DURATION']);
    expect(parseValidity(undefined, 42)).toBe(42);
  });
});
