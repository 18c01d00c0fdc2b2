// /v1/certificates: issue (batched through the queue), read / list (straight from the
// inventory), rotate (a rotate-manual item built from the stored record), delete (+ `released`).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, RequestHandler, Response } from 'express';
import { DEFAULT_PAGE, OPERATIONS } from '@fsm-certs/api';
import { principalOf } from '../auth/middleware.js';
import { requireName, type Principal } from '../auth/tokens.js';
import { GatewayError } from '../errors.js';
import type { IssueBatcher, IssueRequestItem } from '../issue/batcher.js';
import { buildIssueItem } from '../issue/issue-request.js';
import { isUnreadableRecord, type CertificateRecord } from '@fsm-certs/queue';
import { sendJson } from '../http/send-json.js';
import { parseOr } from '../http/validate.js';
import { certificateResponse, openKey } from '../responses.js';
import type { GatewayDeps } from '../deps.js';
import type { OperationHandlers } from './table.js';
import type { UnreadableRecords } from './unreadable-records.js';

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

const { getCertificate, listCertificates } = OPERATIONS;

/** The common name of a /v1/certificates/{cn} path, lower-cased. */
function cnParam(req: Request): string {
  return parseOr(OPERATIONS.getCertificate.pathParams, req.params, 'INVALID_NAME', 'common name in the path').cn.toLowerCase();
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

type CertificateOperation = 'issueCertificate' | 'listCertificates' | 'getCertificate' | 'rotateCertificate' | 'deleteCertificate';

/** The handlers of /v1/certificates; authentication runs before them (the issue route's inline). */
export function certificateHandlers(
  deps: GatewayDeps,
  batcher: IssueBatcher,
  issueRoute: IssueRouteSteps,
  unreadable: UnreadableRecords,
): Pick<OperationHandlers, CertificateOperation> {
  const { inventory, kek } = deps;
  const issue: RequestHandler = issueHandler(deps, batcher, issueRoute);
  /** The record of one name; one that does not decode is answered RECORD_UNREADABLE. */
  const read = async (cn: string): Promise<CertificateRecord | undefined> => {
    try {
      return await inventory.get(cn);
    } catch (error) {
      throw isUnreadableRecord(error) ? unreadable.refusal(error) : error;
    }
  };

  const list: RequestHandler = async (req, res) => {
    const { limit, cursor } = parseOr(listCertificates.query, req.query, 'INVALID_QUERY', 'query');
    const page = await inventory.list({ limit: limit ?? DEFAULT_PAGE, ...(cursor === undefined || cursor === '' ? {} : { cursor }) });
    for (const error of page.unreadable) unreadable.report(error);
    res.json({
      items: page.items.map((r) => certificateResponse(r)),
      nextCursor: page.nextCursor ?? null,
      unreadable: page.unreadable.map((error) => error.commonName),
    });
  };

  const get: RequestHandler = async (req, res) => {
    const cn = cnParam(req);
    const includeKey = parseOr(getCertificate.query, req.query, 'INVALID_QUERY', 'query').includeKey ?? false;
    const principal = principalOf(req);
    if (includeKey && !principal.isAdmin) {
      throw new GatewayError('FORBIDDEN', 'includeKey=true needs an admin token; workloads get their key only in the issue response.');
    }
    const record = await read(cn);
    if (record === undefined) throw new GatewayError('CERTIFICATE_NOT_FOUND', `No certificate for "${cn}"; issue one with POST /v1/certificates.`);
    res.json(certificateResponse(record, includeKey ? openKey(kek, record) : undefined));
  };

  const rotate: RequestHandler = async (req, res) => {
    const cn = cnParam(req);
    requireName(principalOf(req), cn);
    const current = await read(cn);
    if (current === undefined) throw new GatewayError('CERTIFICATE_NOT_FOUND', `No certificate for "${cn}" to rotate; issue one first.`);
    const record = await batcher.submit(rotationItem(current));
    res.json(certificateResponse(record, current.csrPem === undefined ? openKey(kek, record) : undefined));
  };

  const release: RequestHandler = async (req, res) => {
    const cn = cnParam(req);
    requireName(principalOf(req), cn);
    const removed = await inventory.delete(cn);
    if (removed === undefined) throw new GatewayError('CERTIFICATE_NOT_FOUND', `No certificate for "${cn}".`);
    const { serialNumber } = removed;
    try {
      if (serialNumber === undefined) throw new Error('the removed hash held no serial to announce');
      await deps.events.publish({ version: 1, at: new Date(deps.clock.now()).toISOString(), kind: 'released', commonName: cn, serialNumber });
    } catch (error) {
      // The delete happened; a lost announcement must not turn it into an error for the caller.
      deps.logger?.warn({ err: error, commonName: cn }, 'released event not published');
    }
    res.status(204).end();
  };

  return { issueCertificate: issue, listCertificates: list, getCertificate: get, rotateCertificate: rotate, deleteCertificate: release };
}
