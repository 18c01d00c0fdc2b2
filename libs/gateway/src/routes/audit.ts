// GET /v1/audit: the audit trail, oldest first, filtered by name, caller, outcome and time.
import type { RequestHandler } from 'express';
import { DEFAULT_PAGE, OPERATIONS } from '@fsm-certs/api';
import type { GatewayDeps } from '../deps.js';
import { GatewayError } from '../errors.js';
import { parseOr } from '../http/validate.js';
import type { OperationHandlers } from './table.js';

export function auditHandlers(deps: GatewayDeps): Pick<OperationHandlers, 'listAudit'> {
  const handler: RequestHandler = async (req, res) => {
    const query = parseOr(OPERATIONS.listAudit.query, req.query, 'INVALID_QUERY', 'query');
    if (deps.audit === undefined) throw new GatewayError('BACKEND_UNAVAILABLE', 'This gateway keeps no audit trail (no Redis audit store wired).', { retryAfterSeconds: 30 });
    const page = await deps.audit.query({
      limit: query.limit ?? DEFAULT_PAGE,
      ...(query.name === undefined ? {} : { name: query.name }),
      ...(query.caller === undefined ? {} : { caller: query.caller }),
      ...(query.outcome === undefined ? {} : { outcome: query.outcome }),
      ...(query.since === undefined ? {} : { sinceMs: Date.parse(query.since) }),
      ...(query.until === undefined ? {} : { untilMs: Date.parse(query.until) }),
      ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
    });
    res.json({ items: page.items, nextCursor: page.nextCursor ?? null });
  };
  return { listAudit: handler };
}
