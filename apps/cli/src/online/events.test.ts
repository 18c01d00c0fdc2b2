import { describe, expect, it } from 'vitest';
import { countOption, formatEvent } from './events.js';
import { certificateState, formatList } from './cert-read.js';

describe('formatEvent', () => {
  const cases = [
    {
      name: 'issued',
      event: { id: '1767225600000-0', type: 'issued', data: { version: 1, at: 'x', kind: 'issued', commonName: 'a.b.cluster.local', serialNumber: '5f0c', notAfter: '2026-01-02T00:00:00.000Z' } },
      line: '1767225600000-0  issued                a.b.cluster.local  serial=5f0c  notAfter=2026-01-02T00:00:00.000Z',
    },
    {
      name: 'rotated',
      event: { id: '1-1', type: 'rotated', data: { kind: 'rotated', commonName: 'a.example', serialNumber: '02', previousSerialNumber: '01', reason: 'rotate-due', notAfter: 'T' } },
      line: '1-1  rotated               a.example  serial=02  previous=01  reason=rotate-due  notAfter=T',
    },
    {
      name: 'trust-bundle-changed (no name)',
      event: { id: '2-0', type: 'trust-bundle-changed', data: { kind: 'trust-bundle-changed', issuerId: 'AB:CD', trustedCaCount: 2, rootNotAfter: 'T' } },
      line: '2-0  trust-bundle-changed  -  issuer=AB:CD  roots=2  rootNotAfter=T',
    },
    { name: 'an unknown kind with text data', event: { id: '3-0', type: 'future-kind', data: 'hello' }, line: '3-0  future-kind           -' },
  ];
  it.each(cases)('prints one line for $name', ({ event, line }) => {
    expect(formatEvent(event)).toBe(line);
  });

  it('refuses a --count that is not a positive whole number', () => {
    expect(countOption(undefined)).toBeUndefined();
    expect(countOption('2')).toBe(2);
    expect(() => countOption('0')).toThrow(/--count "0"/);
    expect(() => countOption('1.5')).toThrow(/--count "1.5"/);
  });
});

describe('cert list table', () => {
  const now = new Date('2026-01-01T12:00:00Z');
  const row = (commonName: string, renewAt: string, notAfter: string) => ({
    commonName, serialNumber: 'ab', certificate: '', chain: [], issuingCA: '', trustedCAs: [], notBefore: '2026-01-01T00:00:00.000Z', renewAt, notAfter,
    keyAlgorithm: 'ecdsa-p256' as const, mode: 'server-key' as const, dnsNames: [commonName], uris: [], ipAddresses: [],
  });

  it('aligns columns and marks renew-due and expired certificates', () => {
    const text = formatList([
      row('a.example', '2026-01-01T16:00:00.000Z', '2026-01-02T00:00:00.000Z'),
      row('long-name.example', '2026-01-01T11:00:00.000Z', '2026-01-02T00:00:00.000Z'),
      row('old.example', '2025-12-31T00:00:00.000Z', '2026-01-01T00:00:00.000Z'),
    ], now);
    expect(text.split('\n')).toEqual([
      'NAME               SERIAL  NOT AFTER                 RENEW AT                  STATE',
      'a.example          ab      2026-01-02T00:00:00.000Z  2026-01-01T16:00:00.000Z  ok',
      'long-name.example  ab      2026-01-02T00:00:00.000Z  2026-01-01T11:00:00.000Z  renew-due',
      'old.example        ab      2026-01-01T00:00:00.000Z  2025-12-31T00:00:00.000Z  expired',
      '',
    ]);
    expect(formatList([], now)).toBe('no certificates\n');
    expect(certificateState(row('x', '2026-01-01T12:00:00.000Z', '2026-01-02T00:00:00.000Z'), now)).toBe('renew-due');
  });
});
