import { createRootCa, inspectCertificate, type CertificateInfo } from '@fsm-certs/x509';
import { describe, expect, it } from 'vitest';
import type { ListedCertificate } from './cert-read.js';
import { evaluate, graceOption, rootDaysOption, rootWarnOption } from './check.js';

const now = new Date('2026-03-01T12:00:00Z');
const DAY = 86_400_000;

/** A real root, parsed back: notAfter = now + daysLeft (backdating aside). */
function root(daysLeft: number, commonName = 'fsm-ca.flomesh.io'): CertificateInfo {
  const issued = new Date(now.getTime() - DAY);
  return inspectCertificate(createRootCa({ commonName, now: issued, validityMs: (daysLeft + 1) * DAY }).certificatePem);
}

function cert(commonName: string, renewAt: Date, notAfter: Date): ListedCertificate {
  return {
    commonName,
    serialNumber: 'ab12',
    certificate: '',
    chain: [],
    issuingCA: '',
    trustedCAs: [],
    notBefore: new Date(now.getTime() - DAY).toISOString(),
    notAfter: notAfter.toISOString(),
    renewAt: renewAt.toISOString(),
    keyAlgorithm: 'ecdsa-p256',
    mode: 'server-key',
    dnsNames: [commonName],
    uris: [],
    ipAddresses: [],
  };
}

const at = (offsetMs: number): Date => new Date(now.getTime() + offsetMs);
const policy = { rootDays: 30, graceMs: 0 };

describe('check: evaluate', () => {
  it('is ok for a young root and certificates before their renew time', () => {
    const verdict = evaluate([root(3650)], [cert('a.example', at(DAY), at(2 * DAY))], now, policy);
    expect(verdict.problems).toEqual([]);
    expect(verdict.summary).toMatch(/^ok: root fsm-ca\.flomesh\.io valid until 2036-\S+ \(36\d\d days\); 1 certificate, none past its renew time$/);
  });

  const cases: Array<{ name: string; roots: () => CertificateInfo[]; certs: ListedCertificate[]; graceMs?: number; rootDays?: number; problems: RegExp[] }> = [
    {
      name: 'a root expiring within the threshold',
      roots: () => [root(12)],
      certs: [],
      problems: [/^root fsm-ca\.flomesh\.io \(serial [0-9a-f]+\) expires at 2026-03-1\dT.*, in 1[12] days \(threshold 30\): rotate the root now: fsm-certs ca rotate --auto --propagation 10m --spread 1h$/],
    },
    { name: 'a root expiring just outside a smaller threshold', roots: () => [root(12)], certs: [], rootDays: 10, problems: [] },
    {
      name: 'only the old root of a bundle during rotation',
      roots: () => [root(5, 'old-root.example'), root(3650)],
      certs: [],
      problems: [/^root old-root\.example .* in [45] days/],
    },
    {
      name: 'a certificate past its renew time',
      roots: () => [root(3650)],
      certs: [cert('late.example', at(-90 * 60_000), at(DAY)), cert('fine.example', at(DAY), at(2 * DAY))],
      problems: [/^certificate late\.example \(serial ab12\) is 1h30m0s past its renew time 2026-03-01T10:30:00\.000Z \(expires 2026-03-02T12:00:00\.000Z\): is the rotation-worker running\? run fsm-certs cert rotate late\.example$/],
    },
    { name: 'a certificate past its renew time but within --grace', roots: () => [root(3650)], certs: [cert('late.example', at(-60_000), at(DAY))], graceMs: 5 * 60_000, problems: [] },
    {
      name: 'an expired certificate (once, not also as overdue)',
      roots: () => [root(3650)],
      certs: [cert('gone.example', at(-2 * DAY), at(-DAY))],
      problems: [/^certificate gone\.example \(serial ab12\) expired at 2026-02-28T12:00:00\.000Z: run fsm-certs cert rotate gone\.example$/],
    },
  ];
  it.each(cases)('reports $name', ({ roots, certs, graceMs, rootDays, problems }) => {
    const verdict = evaluate(roots(), certs, now, { rootDays: rootDays ?? 30, graceMs: graceMs ?? 0 });
    expect(verdict.problems).toHaveLength(problems.length);
    problems.forEach((pattern, i) => expect(verdict.problems[i]).toMatch(pattern));
  });

  it('warns, without failing, about a root expiring within --root-warn (default a year) and names the rotation command', () => {
    const year = rootWarnOption(undefined);
    expect(year).toBe(8_760 * 3_600_000);
    const soon = evaluate([root(200)], [], now, { ...policy, rootWarnMs: year });
    expect(soon.problems).toEqual([]);
    expect(soon.warnings).toHaveLength(1);
    expect(soon.warnings[0]).toMatch(/^root fsm-ca\.flomesh\.io \(serial [0-9a-f]+\) expires at .*, in (199|200) days \(within 8760h0m0s\): plan a root rotation without downtime: fsm-certs ca rotate --auto --propagation 10m --spread 1h$/);
    expect(evaluate([root(400)], [], now, { ...policy, rootWarnMs: year }).warnings).toEqual([]);
    expect(evaluate([root(200)], [], now, { ...policy, rootWarnMs: rootWarnOption('72h') }).warnings).toEqual([]);
  });

  it('reports each record the gateway could not read as a problem, since its expiry is unknown', () => {
    const verdict = evaluate([root(3650)], [cert('fine.example', at(DAY), at(2 * DAY))], now, policy, ['broken.example']);
    expect(verdict.problems).toEqual([
      'certificate record broken.example cannot be read by the gateway (corrupted, or written by another version), so its expiry is unknown: run fsm-certs cert release broken.example and issue it again',
    ]);
  });

  it('counts the inventory the gateway reports in the ok line, or none when it does not tell this token', () => {
    expect(evaluate([root(3650)], [], now, policy, [], 1_000_000).summary).toMatch(/; 1000000 certificates, none past its renew time$/);
    expect(evaluate([root(3650)], [], now, policy, [], 1).summary).toMatch(/; 1 certificate, none past its renew time$/);
    expect(evaluate([root(3650)], [], now, policy, [], null).summary).toMatch(/^ok: root fsm-ca\.flomesh\.io valid until \S+ \(36\d\d days\); no certificate past its renew time$/);
  });

  it('reports an expired root as expired', () => {
    const expired = inspectCertificate(createRootCa({ now: new Date(now.getTime() - 400 * DAY), validityMs: 365 * DAY }).certificatePem);
    expect(evaluate([expired], [], now, policy).problems).toEqual([expect.stringMatching(/^root fsm-ca\.flomesh\.io \(serial [0-9a-f]+\) expired at .*: every certificate it signed is now refused; replace the root \(docs\/operations\.md, the with-downtime method\)$/)]);
  });
});

describe('check options', () => {
  it('defaults to 30 days and no grace, and reads what is given', () => {
    expect(rootDaysOption(undefined)).toBe(30);
    expect(rootDaysOption('7.5')).toBe(7.5);
    expect(graceOption(undefined)).toBe(0);
    expect(graceOption('5m')).toBe(300_000);
    expect(() => rootDaysOption('')).toThrow(/--root-days "" must be a number of days/);
    expect(() => rootDaysOption('ten')).toThrow(/--root-days "ten"/);
  });
});
