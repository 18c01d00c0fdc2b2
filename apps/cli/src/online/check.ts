// fsm-certs check [--root-days 30] [--grace 0s]: a health verdict for cron or a CI gate.
// Exit 1 with one line per problem when a root expires within N days, or a certificate is past
// its renew time (the rotation-worker should have replaced it) or expired, or a stored record
// cannot be read; else exit 0 and "ok: ...". It asks the gateway only for the certificates past
// their renew time (its renew-time index) and for the names of unreadable records (a scan that
// sends back names only), never for the whole inventory's certificates.
import type { CertificateInfo } from '@fsm-certs/x509';
import { formatDuration } from '@fsm-certs/core';
import { CliInputError } from '../errors.js';
import { durationOption } from '../options.js';
import { fetchRoots } from './ca.js';
import type { ListedCertificate } from './cert-read.js';
import type { Gateway } from './gateway.js';

const DAY_MS = 86_400_000;

export interface CheckPolicy {
  /** A root expiring within this many days is a problem. */
  readonly rootDays: number;
  /** A root expiring within this long (but not within rootDays) is a warning naming the rotation command. */
  readonly rootWarnMs?: number;
  /** How long past renewAt a certificate may stay before it is a problem (sweep latency). */
  readonly graceMs: number;
}

/** What `check` tells an operator to run: the zero-downtime staged rotation. */
export const ROTATE_COMMAND = 'fsm-certs ca rotate --auto --propagation 10m --spread 1h';

/** Default of --root-warn: a year ahead. */
export const DEFAULT_ROOT_WARN = '8760h';

export interface CheckVerdict {
  readonly problems: readonly string[];
  /** Worth knowing, not failing the check (exit 0). */
  readonly warnings: readonly string[];
  readonly summary: string;
}

export function rootDaysOption(value: string | undefined): number {
  if (value === undefined) return 30;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new CliInputError(`--root-days ${JSON.stringify(value)} must be a number of days, 0 or more`);
  return n;
}

export function rootWarnOption(value: string | undefined): number {
  return durationOption('--root-warn', value, DEFAULT_ROOT_WARN);
}

export function graceOption(value: string | undefined): number {
  return durationOption('--grace', value, '0s');
}

/**
 * Pure: the problems in a trust bundle and the certificates at `now`. `certs` needs to hold only
 * those past their renew time (others are no problem); `unreadable` names records the gateway
 * could not read: their expiry is unknown, so each is a problem of its own. `inventorySize`, the
 * number of certificates the summary counts, defaults to certs.length; null when the gateway did
 * not say (a token without the `*` pattern).
 */
export function evaluate(
  roots: readonly CertificateInfo[],
  certs: readonly ListedCertificate[],
  now: Date,
  policy: CheckPolicy,
  unreadable: readonly string[] = [],
  inventorySize: number | null = certs.length,
): CheckVerdict {
  const problems: string[] = [];
  const warnings: string[] = [];
  const t = now.getTime();
  for (const root of roots) {
    const name = root.commonName ?? root.subject;
    const left = root.notAfter.getTime() - t;
    if (left <= 0) {
      problems.push(`root ${name} (serial ${root.serialNumber}) expired at ${root.notAfter.toISOString()}: every certificate it signed is now refused; replace the root (docs/operations.md, the with-downtime method)`);
    } else if (left <= policy.rootDays * DAY_MS) {
      problems.push(
        `root ${name} (serial ${root.serialNumber}) expires at ${root.notAfter.toISOString()}, in ${Math.floor(left / DAY_MS)} days (threshold ${policy.rootDays}): rotate the root now: ${ROTATE_COMMAND}`,
      );
    } else if (left <= (policy.rootWarnMs ?? 0)) {
      warnings.push(
        `root ${name} (serial ${root.serialNumber}) expires at ${root.notAfter.toISOString()}, in ${Math.floor(left / DAY_MS)} days (within ${formatDuration(policy.rootWarnMs ?? 0)}): plan a root rotation without downtime: ${ROTATE_COMMAND}`,
      );
    }
  }
  for (const cert of certs) {
    const notAfter = Date.parse(cert.notAfter);
    const renewAt = Date.parse(cert.renewAt);
    if (notAfter <= t) {
      problems.push(`certificate ${cert.commonName} (serial ${cert.serialNumber}) expired at ${cert.notAfter}: run fsm-certs cert rotate ${cert.commonName}`);
    } else if (renewAt + policy.graceMs <= t) {
      problems.push(
        `certificate ${cert.commonName} (serial ${cert.serialNumber}) is ${formatDuration(roundToSeconds(t - renewAt))} past its renew time ${cert.renewAt} ` +
          `(expires ${cert.notAfter}): is the rotation-worker running? run fsm-certs cert rotate ${cert.commonName}`,
      );
    }
  }
  for (const name of unreadable) {
    problems.push(
      `certificate record ${name} cannot be read by the gateway (corrupted, or written by another version), so its expiry is unknown: run fsm-certs cert release ${name} and issue it again`,
    );
  }
  const first = [...roots].sort((a, b) => a.notAfter.getTime() - b.notAfter.getTime())[0];
  const rootPart = first === undefined ? 'no root' : `root ${first.commonName ?? first.subject} valid until ${first.notAfter.toISOString()} (${Math.floor((first.notAfter.getTime() - t) / DAY_MS)} days)`;
  const counted = inventorySize === null ? 'no certificate' : `${inventorySize} certificate${inventorySize === 1 ? '' : 's'}, none`;
  const summary = `ok: ${rootPart}; ${counted} past its renew time`;
  return { problems, warnings, summary };
}

/** The gateway's page size ceiling. */
const MAX_PAGE = 1000;
/** Bounds a walk: a million certificates are 1000 pages; a cursor that never ends is a bug. */
const MAX_PAGES = 1_000_000;

export interface Overdue {
  readonly items: ListedCertificate[];
  readonly unreadable: string[];
  /** How many certificates the inventory holds; null when the gateway does not tell this token. */
  readonly inventorySize: number | null;
}

/** Every certificate at or past its renew time by the gateway's clock: O(overdue). */
export async function listOverdue(gateway: Gateway): Promise<Overdue> {
  const items: ListedCertificate[] = [];
  const unreadable: string[] = [];
  let inventorySize: number | null = null;
  let cursor: string | undefined;
  for (let pages = 0; pages < MAX_PAGES; pages++) {
    const page = await gateway.call((client) => client.list({ overdue: true, limit: MAX_PAGE, ...(cursor === undefined ? {} : { cursor }) }));
    items.push(...page.items);
    unreadable.push(...(page.unreadable ?? []));
    inventorySize = page.inventorySize ?? inventorySize;
    cursor = page.nextCursor ?? undefined;
    if (cursor === undefined) break;
  }
  return { items, unreadable, inventorySize };
}

/** The names of every record the gateway cannot read: it looks at each (decoding only those changed since the last scan); only names travel. */
export async function scanUnreadable(gateway: Gateway): Promise<string[]> {
  const names: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < MAX_PAGES; pages++) {
    const page = await gateway.call((client) => client.list({ unreadable: true, limit: MAX_PAGE, ...(cursor === undefined ? {} : { cursor }) }));
    names.push(...(page.unreadable ?? []));
    cursor = page.nextCursor ?? undefined;
    if (cursor === undefined) break;
  }
  return names;
}

export async function check(gateway: Gateway, policy: CheckPolicy, now: () => Date, print: (line: string) => void): Promise<number> {
  const [roots, overdue, scanned] = await Promise.all([fetchRoots(gateway), listOverdue(gateway), scanUnreadable(gateway)]);
  // The scan sees every name; the overdue walk adds one that broke between the two.
  const unreadable = [...new Set([...scanned, ...overdue.unreadable])];
  // Name order, as the problems were always printed (the gateway answers by renew time).
  const overdueByName = [...overdue.items].sort((a, b) => (a.commonName < b.commonName ? -1 : a.commonName > b.commonName ? 1 : 0));
  const verdict = evaluate(roots, overdueByName, now(), policy, unreadable, overdue.inventorySize);
  for (const warning of verdict.warnings) print(`warning: ${warning}`);
  if (verdict.problems.length === 0) {
    print(verdict.summary);
    return 0;
  }
  for (const problem of verdict.problems) print(`problem: ${problem}`);
  return 1;
}

function roundToSeconds(ms: number): number {
  return Math.max(1_000, Math.round(ms / 1_000) * 1_000);
}
