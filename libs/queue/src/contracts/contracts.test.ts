import { UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { InvalidJobPayloadError } from '../errors.js';
import { certificateRecord, issueItem } from '../test-fixtures.test-helpers.js';
import { certEventSchema } from './events.js';
import { issueJobPayloadSchema, issueJobResultSchema } from './issue-job.js';
import { trustBundleDigest } from '../inventory/trust-bundle-digest.js';
import { parseJobPayload } from './parse.js';
import { rotateJobId, rotateJobPayloadSchema } from './rotate-job.js';

function rejection(fn: () => unknown): InvalidJobPayloadError {
  try {
    fn();
  } catch (error) {
    if (error instanceof InvalidJobPayloadError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('issue job payload', () => {
  it('accepts a batch of valid requests', () => {
    const payload = { version: 1, requests: [issueItem(), issueItem({ csrPem: 'x', keyAlgorithm: 'rsa-2048' })] };
    expect(parseJobPayload(issueJobPayloadSchema, payload)).toEqual(payload);
  });

  it.each([
    ['a negative validity', { version: 1, requests: [issueItem({ validityMs: -5 })] }, 'requests.0.validityMs'],
    ['a fractional validity', { version: 1, requests: [issueItem({ validityMs: 1.5 })] }, 'requests.0.validityMs'],
    ['a request id that is not a uuid', { version: 1, requests: [issueItem(), issueItem({ requestId: 'nope' })] }, 'requests.1.requestId'],
    ['an unknown key algorithm', { version: 1, requests: [{ ...issueItem(), keyAlgorithm: 'dsa' }] }, 'requests.0.keyAlgorithm'],
    ['an empty common name', { version: 1, requests: [issueItem({ commonName: '' })] }, 'requests.0.commonName'],
    ['a common name with a colon', { version: 1, requests: [issueItem({ commonName: 'a:b' })] }, 'requests.0.commonName'],
    ['an empty batch', { version: 1, requests: [] }, 'requests'],
    ['version 2', { version: 2, requests: [issueItem()] }, 'version'],
    ['a missing reason', { version: 1, requests: [{ ...issueItem(), reason: undefined }] }, 'requests.0.reason'],
  ])('rejects %s as unrecoverable, naming the field', (_name, payload, field) => {
    const error = rejection(() => parseJobPayload(issueJobPayloadSchema, payload));
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect(error.fields).toContain(field);
    expect(error.message).toContain(field);
    expect(error.code).toBe('INVALID_JOB_PAYLOAD');
  });

  it('asks for v3 results in a field a ca-service that predates v3 strips, leaving it a v2 request', () => {
    const payload = { version: 1, requests: [issueItem()], resultVersion: 2, maxResultVersion: 3 };
    expect(parseJobPayload(issueJobPayloadSchema, payload)).toEqual(payload);
    // The schema before v3: the same without maxResultVersion. It refuses resultVersion 3 outright.
    const before = issueJobPayloadSchema.omit({ maxResultVersion: true });
    expect(parseJobPayload(before, payload)).toEqual({ version: 1, requests: payload.requests, resultVersion: 2 });
    expect(before.safeParse({ ...payload, resultVersion: 3 }).success).toBe(false);
    expect(issueJobPayloadSchema.safeParse({ ...payload, maxResultVersion: 0 }).success).toBe(false);
  });

  it('rejects a non-object payload', () => {
    const error = rejection(() => parseJobPayload(issueJobPayloadSchema, 'hello'));
    expect(error.message).toContain('(payload)');
  });
});

describe('issue job result', () => {
  it('accepts ok and failed items side by side', () => {
    const result = {
      version: 1,
      results: [
        { requestId: issueItem().requestId, ok: true, certificate: certificateRecord() },
        { requestId: issueItem().requestId, ok: false, error: { code: 'INVALID_REQUEST', message: 'bad', httpStatus: 400, retryable: false } },
      ],
    };
    expect(issueJobResultSchema.parse(result)).toEqual(result);
  });

  it('reads v2 results whose records reference the trust bundle instead of carrying its PEMs', () => {
    const { issuingCaPem: _i, trustedCasPem: _t, ...compact } = certificateRecord();
    const digest = trustBundleDigest('-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----', []);
    const result = { version: 2, results: [{ requestId: issueItem().requestId, ok: true, certificate: compact, trustBundleDigest: digest }] };
    expect(issueJobResultSchema.parse(result)).toEqual(result);
    expect(issueJobResultSchema.safeParse({ ...result, version: 1 }).success).toBe(false);
    expect(issueJobResultSchema.safeParse({ version: 2, results: [{ ...result.results[0], trustBundleDigest: 'nope' }] }).success).toBe(false);
  });

  it('reads v3 results that name each stored certificate by common name and serial, beside failed items', () => {
    const { commonName, serialNumber } = certificateRecord();
    const result = {
      version: 3,
      results: [
        { requestId: issueItem().requestId, ok: true, commonName, serialNumber, auditId: '1764504000000-0a1b2c3d4e5f' },
        { requestId: issueItem().requestId, ok: false, error: { code: 'INVALID_REQUEST', message: 'bad', httpStatus: 400, retryable: false } },
      ],
    };
    expect(issueJobResultSchema.parse(result)).toEqual(result);
    expect(issueJobResultSchema.safeParse({ version: 3, results: [{ ...result.results[0], serialNumber: 'AB:CD' }] }).success).toBe(false);
    expect(issueJobResultSchema.safeParse({ version: 3, results: [{ requestId: issueItem().requestId, ok: true, commonName }] }).success).toBe(false);
  });

  it('names a trust bundle by its content, ignoring surrounding whitespace', () => {
    const a = '-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----';
    const b = '-----BEGIN CERTIFICATE-----\nB\n-----END CERTIFICATE-----';
    expect(trustBundleDigest(a, [b])).toBe(trustBundleDigest(`${a}\n`, [`${b}\n`]));
    expect(trustBundleDigest(a, [b])).not.toBe(trustBundleDigest(a, [a]));
    expect(trustBundleDigest(a, [b])).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses an ok item without its certificate', () => {
    expect(issueJobResultSchema.safeParse({ version: 1, results: [{ requestId: issueItem().requestId, ok: true }] }).success).toBe(false);
  });
});

describe('rotate job', () => {
  it('refuses reason "request" on the rotate queue', () => {
    const error = rejection(() =>
      parseJobPayload(rotateJobPayloadSchema, { version: 1, commonName: 'a.b', serialNumber: 'ff', reason: 'request' }),
    );
    expect(error.fields).toEqual(['reason']);
  });

  it('rejects an upper-case serial', () => {
    const error = rejection(() =>
      parseJobPayload(rotateJobPayloadSchema, { version: 1, commonName: 'a.b', serialNumber: 'FF', reason: 'rotate-manual' }),
    );
    expect(error.fields).toEqual(['serialNumber']);
  });

  it('builds a dedupe id without ":" that differs per serial', () => {
    const id = rotateJobId('bookstore.ns.cluster.local', '1f2e');
    expect(id).toBe('rotate/bookstore.ns.cluster.local/1f2e');
    expect(id).not.toContain(':');
    expect(rotateJobId('bookstore.ns.cluster.local', '1f2f')).not.toBe(id);
  });
});

describe('events', () => {
  it('discriminates on kind and requires the kind-specific fields', () => {
    const at = new Date().toISOString();
    expect(certEventSchema.safeParse({ version: 1, at, kind: 'issued', commonName: 'a.b', serialNumber: 'ab', notAfter: at }).success).toBe(true);
    expect(certEventSchema.safeParse({ version: 1, at, kind: 'rotated', commonName: 'a.b', serialNumber: 'ab', notAfter: at }).success).toBe(
      false,
    );
    expect(certEventSchema.safeParse({ version: 1, at, kind: 'exploded' }).success).toBe(false);
  });
});
