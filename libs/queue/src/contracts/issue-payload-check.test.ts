// The hand check in front of the issue payload's schema: whatever it lets through, the schema
// accepts and returns with the same fields and values; every other payload is decided and worded
// by the schema, with the same error. And the everyday payload skips zod.
import { UnrecoverableError } from 'bullmq';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidJobPayloadError } from '../errors.js';
import { issueItem } from '../test-fixtures.test-helpers.js';
import { issueJobPayloadSchema, type IssueAuditContext, type IssueItem } from './issue-job.js';
import { isPlainIssueJobPayload, parseIssueJobPayload } from './issue-payload-check.js';
import { parseJobPayload } from './parse.js';
import { pick, random } from '../seeded-random.test-helpers.js';

const AUDIT: IssueAuditContext = { id: '1764500000000-0123456789ab', operation: 'issueCertificate', caller: 'bookstore', clientAddress: '127.0.0.1', requestId: 'req-1' };
const ITEM: IssueItem = issueItem({ requestId: '6f1c2b9e-8a4d-4c3e-9b2a-1d0e5f7a8b9c', audit: AUDIT });

const long = (n: number, c = 'a'): string => c.repeat(n);
const names = (n: number, value = 'a.b'): string[] => Array.from({ length: n }, () => value);

/** Values for each item field: valid ones first, then near misses at every bound and of every wrong type. */
const ITEM_VALUES: Readonly<Record<keyof IssueItem, readonly unknown[]>> = {
  requestId: [ITEM.requestId, '6F1C2B9E-8A4D-4C3E-9B2A-1D0E5F7A8B9C', '00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '6f1c2b9e-8a4d-9c3e-9b2a-1d0e5f7a8b9c', '6f1c2b9e-8a4d-4c3e-7b2a-1d0e5f7a8b9c', '6f1c2b9e8a4d4c3e9b2a1d0e5f7a8b9c', '', 1, null],
  commonName: ['bookstore.ns.svc', 'Bookstore.NS', '*.a.b', 'a_b', long(253), long(254), '', 'a b', 'a/b', 'a:b', 'a\tb', 'é.b', 'a\u00a0b', 7, null],
  dnsNames: [[], ['a.b'], names(100), names(101), [long(253)], [long(254)], [''], [1], [null], 'a.b', null, [, 'a.b'], ['A B']],
  uris: [[], ['spiffe://cluster.local/ns/a/sa/b'], names(100, 'u:x'), names(101, 'u:x'), [long(2048)], [long(2049)], [''], [{}], {}],
  ipAddresses: [[], ['10.0.0.1'], ['::1'], [long(64)], [long(65)], [''], names(101, '10.0.0.1'), [false]],
  validityMs: [86_400_000, 1, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, 0, -1, -0, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '1000', null],
  keyAlgorithm: ['ecdsa-p256', 'rsa-2048', 'rsa-4096', 'ECDSA-P256', 'dsa', '', null],
  csrPem: ['-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n', 'x', long(64 * 1024), long(64 * 1024 + 1), '', 5, null, undefined],
  reason: ['request', 'rotate-manual', 'rotate-scheduled', 'root-rotation', 'Request', 'rotate', null],
  expectSerial: ['4f3a', '0', long(64, 'f'), long(65, 'f'), '4F3A', '4f:3a', '', 12, null, undefined],
  audit: [AUDIT, undefined, null, 'audit', { ...AUDIT, extra: 1 }, Object.assign(Object.create(null) as object, AUDIT)],
};

/** Values for each audit field, as above. */
const AUDIT_VALUES: Readonly<Record<keyof IssueAuditContext, readonly unknown[]>> = {
  id: [AUDIT.id, '1764500000000-0123456789AB', '176450000000-0123456789ab', '1764500000000-0123456789abc', '', 7],
  operation: ['issueCertificate', 'rotateCertificate', '', null],
  caller: ['bookstore', null, '', long(300), long(301), 3, undefined],
  clientAddress: ['127.0.0.1', null, long(64), long(65), ['127.0.0.1']],
  requestId: ['req-1', '', long(128), long(129), null, undefined],
};

/** Changes a copy of `base` in up to `max` fields, then sometimes extends, cuts or unplains it. */
function nearMiss(next: () => number, base: object, values: Readonly<Record<string, readonly unknown[]>>, max: number): unknown {
  const out: Record<string, unknown> = { ...base };
  const fields = Object.keys(values);
  const changes = Math.floor(next() * (max + 1));
  for (let c = 0; c < changes; c++) {
    const field = pick(next, fields);
    out[field] = pick(next, values[field] ?? []);
  }
  const shape = next();
  if (shape < 0.04) return { ...out, extra: 'x' };
  if (shape < 0.08) {
    const { [pick(next, fields)]: _dropped, ...rest } = out;
    return rest;
  }
  if (shape < 0.1) return Object.assign(Object.create(null) as object, out);
  return out;
}

function item(next: () => number): unknown {
  const changed = nearMiss(next, ITEM, ITEM_VALUES, 2);
  if (next() < 0.2 && typeof changed === 'object' && changed !== null) {
    return { ...changed, audit: nearMiss(next, AUDIT, AUDIT_VALUES, 2) };
  }
  return changed;
}

/** Payloads near the everyday shape: batches of near-miss items, and near misses of the envelope. */
function* payloads(count: number): Generator<unknown> {
  const next = random(15);
  for (let n = 0; n < count; n++) {
    const size = next() < 0.8 ? 1 + Math.floor(next() * 3) : pick(next, [0, 500, 501]);
    // Big batches repeat one item: the bound is what they test.
    const requests = size > 3 ? Array.from({ length: size }, () => ITEM) : Array.from({ length: size }, () => (next() < 0.6 ? ITEM : item(next)));
    const envelope: Record<string, unknown> = { version: 1, requests };
    const r = next();
    if (r < 0.5) envelope['resultVersion'] = 2;
    else if (r < 0.55) envelope['resultVersion'] = pick(next, [1, 3, '2', null, undefined]);
    else if (r < 0.6) envelope['version'] = pick(next, [2, '1', 0, null]);
    else if (r < 0.62) envelope['requests'] = pick(next, [{ 0: ITEM }, 'x', null]);
    else if (r < 0.64) envelope['extra'] = true;
    else if (r < 0.65) delete envelope['version'];
    const m = next();
    if (m < 0.3) envelope['maxResultVersion'] = 3;
    else if (m < 0.36) envelope['maxResultVersion'] = pick(next, [0, -3, 2.5, '3', null, undefined, 9, Number.MAX_SAFE_INTEGER + 1]);
    yield next() < 0.02 ? Object.assign(Object.create(null) as object, envelope) : envelope;
  }
  yield* [null, undefined, 'payload', 1, [], [{ version: 1, requests: [ITEM] }]];
}

type Outcome = { readonly data: unknown } | { readonly error: string; readonly fields: readonly string[]; readonly unrecoverable: boolean };

function outcomeOf(parse: () => unknown): Outcome {
  try {
    return { data: parse() };
  } catch (error) {
    if (!(error instanceof InvalidJobPayloadError)) throw error;
    return { error: error.message, fields: error.fields, unrecoverable: error instanceof UnrecoverableError };
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('parseIssueJobPayload', () => {
  it('takes by hand only payloads the schema accepts, and gives what the schema gives for every payload', () => {
    let taken = 0;
    let refused = 0;
    for (const payload of payloads(4_000)) {
      const expected = outcomeOf(() => parseJobPayload(issueJobPayloadSchema, payload));
      if (isPlainIssueJobPayload(payload)) {
        taken++;
        expect(expected).toStrictEqual({ data: payload });
      }
      if ('error' in expected) refused++;
      expect(outcomeOf(() => parseIssueJobPayload(payload))).toStrictEqual(expected);
    }
    // Not vacuous: both sides are well represented.
    expect(taken).toBeGreaterThan(500);
    expect(refused).toBeGreaterThan(500);
  });

  it('takes the payloads the gateway and the rotation-worker build', () => {
    expect(isPlainIssueJobPayload({ version: 1, requests: [ITEM, issueItem()], resultVersion: 2 })).toBe(true);
    expect(isPlainIssueJobPayload({ version: 1, requests: [issueItem({ reason: 'rotate-scheduled', expectSerial: '4f3a', csrPem: 'x', keyAlgorithm: 'rsa-2048' })] })).toBe(true);
  });

  it('reads an everyday payload without a zod parse, returning it as it is', () => {
    const parse = vi.spyOn(issueJobPayloadSchema, 'safeParse');
    const payload = { version: 1, requests: [ITEM], resultVersion: 2 };
    expect(parseIssueJobPayload(payload)).toBe(payload);
    expect(parse).not.toHaveBeenCalled();
  });

  it('refuses a payload the schema refuses with the schema\'s words, as unrecoverable', () => {
    const bad = { version: 1, requests: [{ ...ITEM, validityMs: 0 }] };
    const error = outcomeOf(() => parseIssueJobPayload(bad));
    expect(error).toMatchObject({ fields: ['requests.0.validityMs'], unrecoverable: true });
    expect(error).toStrictEqual(outcomeOf(() => parseJobPayload(issueJobPayloadSchema, bad)));
  });
});
