// fsm-certs audit [--name N] [--caller C] [--since 24h|TIME] [--limit N] [--json]: the gateway's
// audit trail (admin token), oldest first, one decision per line.
import type { AuditRecord } from '@fsm-certs/client';
import { parseDurationMs } from '@fsm-certs/core';
import { CliInputError } from '../errors.js';
import { limitOption } from './cert-read.js';
import type { Gateway } from './gateway.js';

/** The gateway's page size ceiling. */
const MAX_PAGE = 1000;

/** --since: an RFC 3339 time, or a Go duration back from now ("24h"). */
export function sinceOption(value: string | undefined, now: Date): string | undefined {
  if (value === undefined) return undefined;
  if (/^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(Date.parse(value))) return new Date(Date.parse(value)).toISOString();
  try {
    return new Date(now.getTime() - parseDurationMs(value)).toISOString();
  } catch {
    throw new CliInputError(`--since ${JSON.stringify(value)} must be a time such as 2026-01-01T00:00:00Z or a duration back from now such as 24h`);
  }
}

export function formatAuditRecord(r: AuditRecord): string {
  const fields = [
    r.at,
    r.outcome.padEnd(20),
    r.caller ?? '(unauthenticated)',
    r.commonName ?? '-',
    r.serialNumber === null ? '' : `serial=${r.serialNumber}`,
    r.notAfter === null ? '' : `notAfter=${r.notAfter}`,
    r.code === null ? '' : `code=${r.code}`,
    r.clientAddress === null ? '' : `from=${r.clientAddress}`,
    r.requestId === null ? '' : `request=${r.requestId}`,
  ];
  return fields.filter((f) => f !== '').join('  ');
}

export async function showAudit(
  gateway: Gateway,
  options: { name?: string | undefined; caller?: string | undefined; since?: string | undefined; limit?: string | undefined; json?: boolean | undefined },
  now: Date,
  line: (text: string) => void,
): Promise<void> {
  const limit = limitOption(options.limit);
  const since = sinceOption(options.since, now);
  const items: AuditRecord[] = [];
  let cursor: string | undefined;
  do {
    const want = limit === undefined ? MAX_PAGE : Math.min(MAX_PAGE, limit - items.length);
    const page = await gateway.call((client) =>
      client.audit({
        limit: want,
        ...(options.name === undefined ? {} : { name: options.name }),
        ...(options.caller === undefined ? {} : { caller: options.caller }),
        ...(since === undefined ? {} : { since }),
        ...(cursor === undefined ? {} : { cursor }),
      }),
    );
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && (limit === undefined || items.length < limit));
  if (options.json === true) line(JSON.stringify(items, null, 2));
  else for (const record of items) line(formatAuditRecord(record));
}
