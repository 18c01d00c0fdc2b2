// /v1/certificates: issue (batched through the queue), read / list (straight from the
// inventory), rotate (a rotate-manual item built from the stored record), delete (+ `released`).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Express, Request, RequestHandler, Response } from 'express';
import { principalOf } from '../auth/middleware.js';
import { requireName, type Principal } from '../auth/tokens.js';
import { GatewayError } from '../errors.js';
import type { IssueBatcher, IssueRequestItem } from '../issue/batcher.js';
import { buildIssueItem, normaliseCommonName } from '../issue/issue-request.js';
import type { CertificateRecord } from '@fsm-certs/queue';
import { sendJson } from '../http/send-json.js';
import { certificateResponse, openKey } from '../responses.js';
import type { GatewayDeps } from '../deps.js';

/**
 * The steps of POST /v1/certificates. They run inline in one handler instead of as a middleware
 * chain: it is the hot route, and each router layer costs more than the step itself. Generic
 * over the request type because the same handler also serves the gateway's fast lane (plain
 * node request/response, see app.ts).
 */
export interface IssueRouteSteps<Req extends IncomingMessage = Request, Res extends ServerResponse = Response> {
  /** Starts the latency / outcome observation (ends when the response is finished). */
  observe(res: Res): void;
  /** Authentication, rate limit, `issue` scope; throws a GatewayError. */
  authorize(req: Req): Principal;
  /** The parsed JSON body (undefined when there is none); throws 413 / 415 / 400. */
  readBody(req: Req, res: Res): Promise<unknown>;
}

export interface CertificateRouteGuards {
  readonly read: RequestHandler;
  readonly issue: RequestHandler;
  readonly issueRoute: IssueRouteSteps;
}

/** POST /v1/certificates: authorise, validate, batch, answer 201 with the certificate (and key). */
export function issueHandler<Req extends IncomingMessage, Res extends ServerResponse>(
  deps: GatewayDeps,
  batcher: IssueBatcher,
  steps: IssueRouteSteps<Req, Res>,
): (req: Req, res: Res) => Promise<void> {
  const { defaultValidityMs, trustDomain } = deps.options;
  const { kek, csrCheck } = deps;
  return async (req, res) => {
    steps.observe(res);
    const principal = steps.authorize(req);
    const body = await steps.readBody(req, res);
    const item = buildIssueItem(body, { principal, defaultValidityMs, trustDomain, csrCheck });
    const record = await batcher.submit(item);
    const key = item.csrPem === undefined ? openKey(kek, record) : undefined;
    sendJson(res, 201, certificateResponse(record, key), `/v1/certificates/${encodeURIComponent(record.commonName)}`);
  };
}

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

function cnParam(req: Request): string {
  const raw = req.params['cn'];
  if (typeof raw !== 'string') throw new GatewayError('INVALID_NAME', 'The path needs a common name.');
  return normaliseCommonName(raw);
}

function parseLimit(value: unknown): number {
  if (value === undefined) return DEFAULT_PAGE;
  if (typeof value !== 'string' || !/^\d{1,4}$/.test(value)) throw new GatewayError('INVALID_QUERY', `limit must be an integer 1..${MAX_PAGE}.`);
  const limit = Number(value);
  if (limit < 1 || limit > MAX_PAGE) throw new GatewayError('INVALID_QUERY', `limit must be an integer 1..${MAX_PAGE}; got ${limit}.`);
  return limit;
}

function parseCursor(value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || value.length > 253 || /[\s/:]/.test(value)) {
    throw new GatewayError('INVALID_QUERY', 'cursor must be the nextCursor value of a previous page.');
  }
  return value;
}

function parseIncludeKey(value: unknown): boolean {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw new GatewayError('INVALID_QUERY', 'includeKey must be "true" or "false".');
}

/** The parameters of a stored certificate as a new queue item (manual rotation re-issues them). */
export function rotationItem(record: CertificateRecord): IssueRequestItem {
  const item: IssueRequestItem = {
    commonName: record.commonName,
    dnsNames: record.dnsNames.filter((n) => n !== record.commonName),
    uris: record.uris,
    ipAddresses: record.ipAddresses,
    validityMs: record.validityMs,
    keyAlgorithm: record.keyAlgorithm,
    reason: 'rotate-manual',
    expectSerial: record.serialNumber,
  };
  return record.csrPem === undefined ? item : { ...item, csrPem: record.csrPem };
}

export function registerCertificateRoutes(app: Express, deps: GatewayDeps, batcher: IssueBatcher, guards: CertificateRouteGuards): void {
  const { inventory, kek } = deps;

  app.post('/v1/certificates', issueHandler(deps, batcher, guards.issueRoute));

  app.get('/v1/certificates', guards.read, async (req, res) => {
    const limit = parseLimit(req.query['limit']);
    const cursor = parseCursor(req.query['cursor']);
    const page = await inventory.list(cursor === undefined ? { limit } : { cursor, limit });
    res.json({ items: page.items.map((r) => certificateResponse(r)), nextCursor: page.nextCursor ?? null });
  });

  app.get('/v1/certificates/:cn', guards.read, async (req, res) => {
    const cn = cnParam(req);
    const includeKey = parseIncludeKey(req.query['includeKey']);
    const principal = principalOf(req);
    if (includeKey && !principal.isAdmin) {
      throw new GatewayError('FORBIDDEN', 'includeKey=true needs an admin token; workloads get their key only in the issue response.');
    }
    const record = await inventory.get(cn);
    if (record === undefined) throw new GatewayError('CERTIFICATE_NOT_FOUND', `No certificate for "${cn}"; issue one with POST /v1/certificates.`);
    res.json(certificateResponse(record, includeKey ? openKey(kek, record) : undefined));
  });

  app.post('/v1/certificates/:cn/rotate', guards.issue, async (req, res) => {
    const cn = cnParam(req);
    requireName(principalOf(req), cn);
    const current = await inventory.get(cn);
    if (current === undefined) throw new GatewayError('CERTIFICATE_NOT_FOUND', `No certificate for "${cn}" to rotate; issue one first.`);
    const record = await batcher.submit(rotationItem(current));
    res.json(certificateResponse(record, current.csrPem === undefined ? openKey(kek, record) : undefined));
  });

  app.delete('/v1/certificates/:cn', guards.issue, async (req, res) => {
    const cn = cnParam(req);
    requireName(principalOf(req), cn);
    const removed = await inventory.delete(cn);
    if (removed === undefined) throw new GatewayError('CERTIFICATE_NOT_FOUND', `No certificate for "${cn}".`);
    try {
      await deps.events.publish({ version: 1, at: new Date(deps.clock.now()).toISOString(), kind: 'released', commonName: cn, serialNumber: removed.serialNumber });
    } catch (error) {
      // The delete happened; a lost announcement must not turn it into an error for the caller.
      deps.logger?.warn({ err: error, commonName: cn }, 'released event not published');
    }
    res.status(204).end();
  });
}
