// The hand check in front of the audit record's schema: whatever it lets through, the schema
// accepts and returns with the same JSON (what is stored); every other record is decided and
// worded by the schema. And the everyday record, stored by AuditLog or the commit, skips zod.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { auditRecordSchema, type AuditRecord } from '@fsm-certs/api';
import { AuditLog } from './audit-log.js';
import { checkAuditRecord, isPlainAuditRecord } from './audit-record-check.js';
import { certificateAuditRecord } from './issuance-record.js';
import { usePrivateRedis } from '../testing.test-helpers.js';
import { pick, random } from '../seeded-random.test-helpers.js';

const db = usePrivateRedis();

const ISSUED: AuditRecord = certificateAuditRecord(
  { id: AuditLog.newId(Date.parse('2026-06-01T10:00:00.000Z')), operation: 'issueCertificate', caller: 'bookstore', clientAddress: '127.0.0.1', requestId: 'req-1' },
  'issued',
  201,
  {
    commonName: 'bookstore-v1.bookstore.cluster.local',
    dnsNames: ['bookstore-v1.bookstore.cluster.local', 'bookstore'],
    ipAddresses: ['10.0.0.1'],
    uris: ['spiffe://cluster.local/ns/bookstore/sa/bookstore-v1'],
    serialNumber: '4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c',
    notBefore: '2026-06-01T10:00:00.000Z',
    notAfter: '2026-06-02T10:00:00.000Z',
    keyAlgorithm: 'ecdsa-p256',
    provider: 'tresor',
    issuerId: 'ab'.repeat(32),
  },
);
const CA = AuditLog.caRecord({ atMs: Date.parse('2026-06-01T10:00:00.000Z'), outcome: 'trust-bundle-changed', operation: 'trustBundle', provider: 'vault', issuerId: 'issuer-1' });

/** Values for each field: valid ones first, then near misses at every bound and of every wrong type. */
const VALUES: Readonly<Record<keyof AuditRecord, readonly unknown[]>> = {
  id: [ISSUED.id, '1764500000000-0123456789ab', '1764500000000-0123456789AB', '176450000000-0123456789ab', '1764500000000-0123456789abc', '', 7, null],
  at: ['2026-06-01T10:00:00.000Z', '2024-02-29T23:59:59Z', '2026-06-01T10:00:00.123456+02:00', '2025-02-29T00:00:00.000Z', '2026-04-31T00:00:00.000Z', '2026-06-01T24:00:00.000Z', '2026-06-01T10:00:60.000Z', '2026-06-01 10:00:00Z', '2026-06-01T10:00Z', '2026-06-01', null, 0],
  outcome: ['issued', 'reused', 'refused', 'root-rotation-stage', 'ISSUED', 'deleted', null, ''],
  operation: ['issueCertificate', '', 'x'.repeat(64), 'x'.repeat(65), null, 1],
  caller: ['bookstore', null, '', 'c'.repeat(300), 'c'.repeat(301), 3, undefined],
  clientAddress: ['127.0.0.1', null, 'a'.repeat(64), 'a'.repeat(65), ['127.0.0.1']],
  requestId: ['req-1', null, 'r'.repeat(128), 'r'.repeat(129), {}],
  commonName: ['a.b', null, 'n'.repeat(253), 'n'.repeat(254), 5],
  names: [[], ['a.b'], Array.from({ length: 200 }, (_, i) => `n${i}`), Array.from({ length: 201 }, (_, i) => `n${i}`), ['x'.repeat(2048)], ['x'.repeat(2049)], [1], [null], 'a.b', null, [, 'a.b']],
  serialNumber: ['4f3a', null, '0', 'f'.repeat(64), 'f'.repeat(65), '4F3A', '4f:3a', '', 12],
  notBefore: ['2026-06-01T10:00:00.000Z', null, '2026-13-01T10:00:00.000Z', 'yesterday', 1],
  notAfter: ['2026-06-02T10:00:00.000Z', null, '2000-02-29T00:00:00Z', '1900-02-29T00:00:00Z', '2026-06-02T10:00:00.000+25:00'],
  keyAlgorithm: ['ecdsa-p256', 'rsa-2048', null, 'ECDSA-P256', 'ecdsa-p999', 1],
  provider: ['tresor', 'vault', 'cert-manager', null, 'Vault', 'openbao'],
  issuerId: ['issuer-1', null, 'i'.repeat(128), 'i'.repeat(129), true],
  code: [null, 'NAME_NOT_ALLOWED', 'c'.repeat(64), 'c'.repeat(65), 403],
  status: [201, null, 100, 599, 99, 600, 201.5, '201', Number.NaN, -0],
};

/** Records near the everyday shape: some fields changed, sometimes reordered, extended or cut short. */
function* records(count: number): Generator<unknown> {
  const next = random(15);
  const fields = Object.keys(VALUES) as Array<keyof AuditRecord>;
  for (let n = 0; n < count; n++) {
    const base: Record<string, unknown> = { ...(next() < 0.5 ? ISSUED : CA) };
    const changes = Math.floor(next() * 3);
    for (let c = 0; c < changes; c++) {
      const field = pick(next, fields);
      base[field] = pick(next, VALUES[field]);
    }
    const shape = next();
    if (shape < 0.05) {
      const { id, ...rest } = base;
      yield { ...rest, id };
    } else if (shape < 0.1) yield { ...base, extra: 1 };
    else if (shape < 0.13) {
      const { status: _status, ...rest } = base;
      yield rest;
    } else if (shape < 0.15) yield Object.assign(Object.create(null) as object, base);
    else yield base;
  }
}

function outcome(check: ReturnType<typeof checkAuditRecord>): unknown {
  return check.success ? { json: JSON.stringify(check.data) } : { issues: check.error.issues };
}

function schemaOutcome(record: unknown): unknown {
  const parsed = auditRecordSchema.safeParse(record);
  return parsed.success ? { json: JSON.stringify(parsed.data) } : { issues: parsed.error.issues };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('checkAuditRecord', () => {
  it('takes by hand only records the schema accepts, and gives what the schema gives for every record', () => {
    let taken = 0;
    let refused = 0;
    for (const record of records(5_000)) {
      if (isPlainAuditRecord(record)) {
        taken++;
        expect(auditRecordSchema.safeParse(record).success).toBe(true);
      }
      const expected = schemaOutcome(record);
      if ('issues' in (expected as object)) refused++;
      expect(outcome(checkAuditRecord(record))).toEqual(expected);
    }
    // Not vacuous: both sides are well represented.
    expect(taken).toBeGreaterThan(500);
    expect(refused).toBeGreaterThan(500);
  });

  it('takes the records the gateway, the commit and the CA build', () => {
    expect(isPlainAuditRecord(ISSUED)).toBe(true);
    expect(isPlainAuditRecord(CA)).toBe(true);
    expect(isPlainAuditRecord({ ...ISSUED, outcome: 'refused', serialNumber: null, notBefore: null, notAfter: null, keyAlgorithm: null, provider: null, issuerId: null, code: 'NAME_NOT_ALLOWED', status: 403 })).toBe(true);
  });

  it('stores an everyday record without a zod parse, byte for byte as the schema would have it', async () => {
    const parse = vi.spyOn(auditRecordSchema, 'safeParse');
    const log = new AuditLog(db.redis, { prefix: '{audit-check}', retentionMs: 24 * 3600_000, now: () => Date.parse('2026-06-01T10:00:00.000Z') });
    await log.appendMany([ISSUED, CA]);
    expect(parse).not.toHaveBeenCalled();
    const stored = await db.redis.hmget('{audit-check}:audit:records', ISSUED.id, CA.id);
    parse.mockRestore();
    expect(stored).toEqual([JSON.stringify(auditRecordSchema.parse(ISSUED)), JSON.stringify(auditRecordSchema.parse(CA))]);
  });

  it('refuses with the schema\'s first message what the schema refuses', async () => {
    const log = new AuditLog(db.redis, { prefix: '{audit-check-2}', retentionMs: 24 * 3600_000 });
    const bad = { ...ISSUED, status: 600 };
    const message = auditRecordSchema.safeParse(bad).error?.issues[0]?.message ?? '';
    expect(message).not.toBe('');
    await expect(log.appendMany([bad])).rejects.toThrow(`Audit record rejected: ${message}.`);
  });
});
