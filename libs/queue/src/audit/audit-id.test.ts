// AuditLog.newId: the id's format is read back (its leading epoch ms are the record's time, and ids
// sort by it), so the text must be the same whatever way it is written.
import { describe, expect, it } from 'vitest';
import { AUDIT_ID_PATTERN } from '@fsm-certs/api';
import { AuditLog } from './audit-log.js';
import { auditIdTime } from './issuance-record.js';

describe('AuditLog.newId', () => {
  it('starts with the time in 13 zero-padded digits that auditIdTime reads back, for every number of digits', () => {
    const times = [0, 1, 9, 10, 999, 1_000, 123_456_789, Date.parse('2026-06-01T10:00:00.000Z'), 1_780_000_000_123.9, 9_999_999_999_999];
    for (let digits = 1; digits <= 13; digits += 1) times.push(10 ** (digits - 1) + 7, 10 ** digits - 1);
    for (const ms of times) {
      const id = AuditLog.newId(ms);
      expect(id, String(ms)).toMatch(AUDIT_ID_PATTERN);
      expect(id.slice(0, 13)).toBe(String(Math.floor(ms)).padStart(13, '0'));
      expect(auditIdTime(id)).toBe(Math.floor(ms));
    }
  });

  it('keeps the order of the ids of one millisecond, and an id handed out stays as it was', () => {
    const ms = Date.parse('2026-06-01T10:00:00.000Z');
    const ids = Array.from({ length: 5_000 }, () => AuditLog.newId(ms));
    const copies = ids.map((id) => `${id}`);
    AuditLog.newId(ms + 1);
    expect(ids).toEqual(copies);
    const sequences = ids.map((id) => Number.parseInt(id.slice(14, 20), 16));
    // The counter is shared by every id of the process and wraps at 2^24, far from these 5,000.
    for (let i = 1; i < sequences.length; i += 1) expect(sequences[i]).toBe(((sequences[i - 1] ?? 0) + 1) % 0x1000000);
  });

  it('ends with random hex digits: every one of the six takes every value', () => {
    const ids = Array.from({ length: 20_000 }, () => AuditLog.newId(0));
    expect(new Set(ids).size).toBe(ids.length);
    for (let at = 20; at < 26; at += 1) expect(new Set(ids.map((id) => id[at])).size, `digit ${at}`).toBe(16);
  });

  it('spells a time outside 13 digits as it always did (clamped below zero, longer above)', () => {
    expect(AuditLog.newId(-5).slice(0, 14)).toBe('0000000000000-');
    expect(AuditLog.newId(10_000_000_000_000).slice(0, 15)).toBe('10000000000000-');
  });
});
