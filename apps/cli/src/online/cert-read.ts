// fsm-certs cert get CN [--json] | cert list [--limit N] [--json]: the inventory as the gateway
// serves it (no queue hop). `list` follows nextCursor until the end or --limit names.
import type { CertificateList, CertificateResponse } from '@fsm-certs/client';
import { formatInspection, inspectCertificate } from '@fsm-certs/x509';
import { CliInputError } from '../errors.js';
import { requiredOption } from '../options.js';
import type { Gateway } from './gateway.js';

export type ListedCertificate = CertificateList['items'][number];

/** The gateway's page size ceiling. */
const MAX_PAGE = 1000;

export function limitOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new CliInputError(`--limit ${JSON.stringify(value)} must be a whole number of at least 1`);
  return n;
}

export interface Listing {
  readonly items: ListedCertificate[];
  /** Names whose stored record the gateway could not read: left out of items. */
  readonly unreadable: string[];
}

export async function listAll(gateway: Gateway, limit: number | undefined): Promise<Listing> {
  const items: ListedCertificate[] = [];
  const unreadable: string[] = [];
  let cursor: string | undefined;
  do {
    const want = limit === undefined ? MAX_PAGE : Math.min(MAX_PAGE, limit - items.length);
    const page = await gateway.call((client) => client.list({ limit: want, ...(cursor === undefined ? {} : { cursor }) }));
    items.push(...page.items);
    unreadable.push(...(page.unreadable ?? []));
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && (limit === undefined || items.length < limit));
  return { items: limit === undefined ? items : items.slice(0, limit), unreadable };
}

/** One line for the records a listing had to leave out, or undefined when there were none. */
export function unreadableWarning(names: readonly string[]): string | undefined {
  if (names.length === 0) return undefined;
  const records = names.length === 1 ? '1 stored certificate record' : `${names.length} stored certificate records`;
  return `warning: ${records} could not be read by the gateway and ${names.length === 1 ? 'is' : 'are'} not listed: ${names.join(', ')}; release each (fsm-certs cert release NAME) and issue it again`;
}

/** ok / renew due / expired, as an operator reads the inventory. */
export function certificateState(cert: { renewAt: string; notAfter: string }, now: Date): 'ok' | 'renew-due' | 'expired' {
  if (Date.parse(cert.notAfter) <= now.getTime()) return 'expired';
  if (Date.parse(cert.renewAt) <= now.getTime()) return 'renew-due';
  return 'ok';
}

export function formatList(items: readonly ListedCertificate[], now: Date): string {
  if (items.length === 0) return 'no certificates\n';
  const rows = [
    ['NAME', 'SERIAL', 'NOT AFTER', 'RENEW AT', 'STATE'],
    ...items.map((c) => [c.commonName, c.serialNumber, c.notAfter, c.renewAt, certificateState(c, now)]),
  ];
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((row) => (row[col] ?? '').length))) ?? [];
  return rows.map((row) => row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col] ?? 0))).join('  ')).join('\n') + '\n';
}

export async function certList(
  gateway: Gateway,
  args: { limit?: string | undefined; json?: boolean | undefined },
  now: Date,
  print: (text: string) => void,
  warn: (line: string) => void,
): Promise<void> {
  const { items, unreadable } = await listAll(gateway, limitOption(args.limit));
  print(args.json === true ? `${JSON.stringify(items, null, 2)}\n` : formatList(items, now));
  const warning = unreadableWarning(unreadable);
  if (warning !== undefined) warn(warning);
}

export function formatCertificate(cert: CertificateResponse, now: Date): string {
  const head = [
    `Common name:   ${cert.commonName}`,
    `Serial:        ${cert.serialNumber}`,
    `Not before:    ${cert.notBefore}`,
    `Not after:     ${cert.notAfter}`,
    `Renew at:      ${cert.renewAt}`,
    `State:         ${certificateState(cert, now)}`,
    `Intermediates: ${cert.chain.length}`,
    '',
  ];
  return `${head.join('\n')}${formatInspection(inspectCertificate(cert.certificate))}`;
}

export async function certGet(gateway: Gateway, args: { commonName?: string | undefined; json?: boolean | undefined }, now: Date, print: (text: string) => void): Promise<void> {
  const commonName = requiredOption('CN', args.commonName, 'bookstore-v2.bookstore.cluster.local');
  const cert = await gateway.call((client) => client.get(commonName));
  print(args.json === true ? `${JSON.stringify(cert, null, 2)}\n` : formatCertificate(cert, now));
}
