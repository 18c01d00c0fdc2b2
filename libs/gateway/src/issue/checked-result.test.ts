// The hand check in front of the job result's schema (isPlainIssueJobResult): whatever it lets
// through, the schema accepts and returns equal; everything else still goes through the schema.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { issueJobResultSchema } from '@fsm-certs/queue';
import { isPlainIssueJobResult } from './checked-result.js';
import { ID, PEM, record, v1, v2, v3 } from './job-results.test-helpers.js';

type Json = Record<string, unknown>;

/** Values a field may be replaced with: valid for some fields, near misses for others. */
const REPLACEMENTS: unknown[] = [
  undefined,
  null,
  '',
  'x',
  'A.Example.COM',
  'x y',
  'a:b',
  'é.b',
  'a'.repeat(254),
  'a'.repeat(253),
  '4F1C',
  'g1',
  'f'.repeat(65),
  '2026-02-30T00:00:00Z',
  '2028-02-29T00:00:00Z',
  '2026-11-30T24:00:00Z',
  '2026-11-30T12:00:00+01:00',
  '2026-11-30T12:00:00.123456789Z',
  '2026-11-30 12:00:00Z',
  '2026-11-30T12:00:00',
  'v3.x',
  'v1.',
  'vault',
  'cert-manager',
  'csr',
  'rsa-2048',
  'ecdsa-p521',
  0,
  -1,
  1.5,
  2 ** 53,
  399,
  400,
  599,
  600,
  true,
  false,
  [],
  [1],
  [''],
  ['x'],
  [PEM],
  {},
  { x: 1 },
  'ABCDEF12-0000-4000-8000-000000000000',
  '00000000-0000-0000-0000-000000000000',
  'cd'.repeat(32),
  'CD'.repeat(32),
  'x'.repeat(64 * 1024 + 1),
  JSON.parse('{"__proto__":{"x":1}}'),
];

/** Paths of every field of a result, so a mutation can land anywhere. */
function paths(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (Array.isArray(value)) return [prefix, ...value.flatMap((item, i) => paths(item, [...prefix, i]))];
  if (typeof value === 'object' && value !== null) return [prefix, ...Object.entries(value).flatMap(([k, v]) => paths(v, [...prefix, k]))];
  return [prefix];
}

function withField(value: unknown, path: ReadonlyArray<string | number>, replacement: unknown, extraKey: string | undefined): unknown {
  const copy: unknown = structuredClone(value);
  if (path.length === 0) return replacement;
  let target: unknown = copy;
  for (const key of path.slice(0, -1)) target = (target as Record<string | number, unknown>)[key];
  const last = path[path.length - 1] as string | number;
  const holder = target as Record<string | number, unknown>;
  if (extraKey !== undefined && typeof holder === 'object' && !Array.isArray(holder)) holder[extraKey] = replacement;
  else if (replacement === undefined && !Array.isArray(holder)) delete holder[last];
  else holder[last] = replacement;
  return copy;
}

describe('isPlainIssueJobResult', () => {
  it('passes the results the ca-service writes, v1, v2 and v3, and the schema returns them equal', () => {
    for (const result of [v1(), v2(), v3()]) {
      expect(isPlainIssueJobResult(result)).toBe(true);
      expect(issueJobResultSchema.parse(result)).toEqual(result);
    }
  });

  it('lets through only results the schema accepts and returns unchanged, whatever one field is changed to', () => {
    const bases = [v1(), v2(), v3()];
    const mutation = fc
      .record({ base: fc.integer({ min: 0, max: bases.length - 1 }), path: fc.nat(), replacement: fc.constantFrom(...REPLACEMENTS), extra: fc.option(fc.constantFrom('extra', 'issuingCaPem', 'csrPem', 'previousSerialNumber', 'auditId', 'trustBundleDigest', 'commonName', 'serialNumber', 'certificate')) })
      .map(({ base, path, replacement, extra }) => {
        const source = bases[base];
        const all = paths(source);
        return withField(source, all[path % all.length] ?? [], replacement, extra ?? undefined);
      });
    let plain = 0;
    let refused = 0;
    fc.assert(
      fc.property(mutation, (candidate) => {
        const parsed = issueJobResultSchema.safeParse(candidate);
        if (isPlainIssueJobResult(candidate)) {
          plain += 1;
          expect(parsed.success).toBe(true);
          expect(parsed.data).toEqual(candidate);
        } else if (!parsed.success) refused += 1;
      }),
      { numRuns: 5_000 },
    );
    // Both sides were exercised: the generator is not all near misses, nor all valid.
    expect(plain).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(100);
  });

  it('sends a CSR-mode record and a record with an earlier serial to the schema only when they are not plain', () => {
    const csr = { ...v1(), results: [{ requestId: ID, ok: true, certificate: { ...record(), mode: 'csr', csrPem: PEM, previousSerialNumber: '01' } }] };
    expect(isPlainIssueJobResult(csr)).toBe(true);
    const upperCaseName = { ...v1(), results: [{ requestId: ID, ok: true, certificate: { ...record(), commonName: 'Bookstore.Cluster.Local' } }] };
    // Valid, but outside the hand check's subset: the schema decides (and accepts).
    expect(isPlainIssueJobResult(upperCaseName)).toBe(false);
    expect(issueJobResultSchema.safeParse(upperCaseName).success).toBe(true);
  });
});
