// The audit trail in a real Redis: many records in one call, read back in order, all or none.
import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '@fsm-certs/api';
import { AuditLog } from './audit-log.js';
import { usePrivateRedis } from '../testing.test-helpers.js';

const db = usePrivateRedis();
const NOW = Date.parse('2026-06-01T00:00:00Z');
let prefixes = 0;

function trail(): AuditLog {
  prefixes += 1;
  return new AuditLog(db.redis, { prefix: `{audit-${prefixes}}`, retentionMs: 24 * 3600_000, now: () => NOW });
}

function record(i: number, atMs = NOW): AuditRecord {
  return {
    ...AuditLog.caRecord({ atMs, outcome: 'trust-bundle-changed', operation: 'trustBundle', provider: 'tresor', issuerId: `issuer-${i}` }),
    commonName: `svc-${i}.ns.cluster.local`,
  };
}

describe('AuditLog.appendMany', () => {
  it('stores every record of a call larger than one script call takes, and reads them back oldest first', async () => {
    const log = trail();
    const records = Array.from({ length: 1_201 }, (_, i) => record(i));
    await log.appendMany(records);
    const { items } = await log.query({ limit: 1_000, sinceMs: NOW });
    const rest = await log.query({ limit: 1_000, sinceMs: NOW, cursor: items.at(-1)?.id ?? '' });
    expect([...items, ...rest.items].map((r) => r.commonName)).toEqual(records.map((r) => r.commonName));
  });

  it('writes none of the records when one of them is invalid', async () => {
    const log = trail();
    const bad = { ...record(2), names: Array.from({ length: 201 }, (_, i) => `n${i}`) };
    await expect(log.appendMany([record(1), bad, record(3)])).rejects.toThrow(/Audit record rejected/);
    expect((await log.query({ limit: 10, sinceMs: 0 })).items).toEqual([]);
  });

  it('drops records older than the retention when it writes', async () => {
    const log = trail();
    await log.appendMany([record(1, NOW - 25 * 3600_000)]);
    await log.appendMany([record(2)]);
    const stored = await db.redis.zrange(`{audit-${prefixes}}:audit:index`, '0', '-1');
    expect(stored).toHaveLength(1);
  });
});
