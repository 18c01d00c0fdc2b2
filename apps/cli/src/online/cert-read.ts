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

export async function listAll(gateway: Gateway, limit: number | undefined): Promise<ListedCertificate[]> {
  const items: ListedCertificate[] = [];
  let cursor: string | undefined;
  do {
    const want = limit === undefined ? MAX_PAGE : Math.min(MAX_PAGE, limit - items.length);
    const page = await gateway.call((client) => client.list({ limit: want, ...(cursor === undefined ? {} : { cursor }) }));
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && (limit === undefined || items.length < limit));
  return limit === undefined ? items : items.slice(0, limit);
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

export async function certList(gateway: Gateway, args: { limit?: string | undefined; json?: boolean | undefined }, now: Date, print: (text: string) => void): Promise<void> {
  const items = await listAll(gateway, limitOption(args.limit));
  print(args.json === true ? `${JSON.stringify(items, null, 2)}\n` : formatList(items, now));
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
