// /v1/certificates: issue (batched through the queue), read / list (straight from the
// inventory), rotate (a rotate-manual item built from the stored record), delete (+ `released`).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, RequestHandler, Response } from 'express';
import { DEFAULT_PAGE, OPERATIONS, type CertificateList } from '@fsm-certs/api';
import { principalOf } from '../auth/middleware.js';
import { certificateNames, coversName, mayRead, requireCoverage, requirePolicy } from '../auth/certificate-names.js';
import type { Principal } from '../auth/tokens.js';
import { GatewayError } from '../errors.js';
import type { IssueBatcher, IssueRequestItem } from '../issue/batcher.js';
import { buildIssueItem } from '../issue/issue-request.js';
import { QueueError, isUnreadableRecord, type CertificateRecord, type RemovedRecord, type UnreadableRecordError } from '@fsm-certs/queue';
import { sendJsonText } from '../http/send-json.js';
import { requestIdFor, requestIdOf, requestedNames, type Auditor } from '../audit/auditor.js';
import { parseOr } from '../http/validate.js';
import { certificateResponse, certificateResponseJson, openKey } from '../responses.js';
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
  authorize(req: Req): Promise<Principal>;
  /** The parsed JSON body (undefined when there is none); throws 413 / 415 / 400. */
  readBody(req: Req, res: Res): Promise<unknown>;
}


/** POST /v1/certificates: authorise, validate, batch, answer 201 with the certificate (and key). */
export function issueHandler<Req extends IncomingMessage, Res extends ServerResponse>(
  deps: GatewayDeps,
  batcher: IssueBatcher,
  steps: IssueRouteSteps<Req, Res>,
  auditor: Auditor,
): (req: Req, res: Res) => Promise<void> {
  const { defaultValidityMs, trustDomain } = deps.options;
  const { kek, csrCheck } = deps;
  return async (req, res) => {
    steps.observe(res);
    // Sent in the answer's head by sendJsonText; a refusal sets it as a header before the problem is written.
    const requestId = requestIdFor(req);
    let body: unknown;
    try {
      const principal = await steps.authorize(req);
      body = await steps.readBody(req, res);
      const item = buildIssueItem(body, { principal, defaultValidityMs, trustDomain, csrCheck });
      // The ca-service stamps issuedAt with its wall clock; one from before this request is a reuse.
      const arrivedAt = Date.now();
      const audit = auditor.issueContext(req);
      const record = await batcher.submit(audit === undefined ? item : { ...item, audit });
      const key = item.csrPem === undefined ? openKey(kek, record) : undefined;
      await auditor.granted(req, res, 'issueCertificate', Date.parse(record.issuedAt) < arrivedAt ? 'reused' : 'issued', { certificate: record }, audit);
      sendJsonText(res, 201, certificateResponseJson(record, key), `/v1/certificates/${encodeURIComponent(record.commonName)}`, requestId);
    } catch (error) {
      requestIdOf(req, res);
      await auditor.refused(req, res, 'issueCertificate', error, requestedNames(body));
      throw error;
    }
  };
}

/** Runs an operation on a stored certificate, recording a refusal of it in the audit trail. */
function audited(auditor: Auditor, operation: string, handler: RequestHandler): RequestHandler {
  return async (req, res, next) => {
    requestIdOf(req, res);
    try {
      await handler(req, res, next);
    } catch (error) {
      const cn = typeof req.params['cn'] === 'string' ? req.params['cn'].toLowerCase() : null;
      await auditor.refused(req, res, operation, error, { commonName: cn, names: cn === null ? [] : [cn] });
      throw error;
    }
  };
}

const { getCertificate, listCertificates } = OPERATIONS;

/** The common name of a /v1/certificates/{cn} path, lower-cased. */
function cnParam(req: Request): string {
  return parseOr(OPERATIONS.getCertificate.pathParams, req.params, 'INVALID_NAME', 'common name in the path').cn.toLowerCase();
}

/** 403 for a name outside the caller's patterns, before anything is read (see coversName). */
function requireNameCovered(principal: Principal, cn: string): void {
  if (!coversName(principal, cn)) {
    throw new GatewayError('NAME_NOT_ALLOWED', `${principal.label} may not act on "${cn}"; its name patterns do not cover it.`);
  }
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
  auditor: Auditor,
): Pick<OperationHandlers, CertificateOperation> {
  const { inventory, kek } = deps;
  const { trustDomain } = deps.options;
  const issue: RequestHandler = issueHandler(deps, batcher, issueRoute, auditor);
  /** The record of one name; one that does not decode is answered RECORD_UNREADABLE. */
  const read = async (cn: string): Promise<CertificateRecord | undefined> => {
    try {
      return await inventory.get(cn);
    } catch (error) {
      throw isUnreadableRecord(error) ? unreadable.refusal(error) : error;
    }
  };

  const list: RequestHandler = async (req, res) => {
    const { limit, cursor, overdue, unreadable: scan } = parseOr(listCertificates.query, req.query, 'INVALID_QUERY', 'query');
    const principal = principalOf(req);
    const paging = { limit: limit ?? DEFAULT_PAGE, ...(cursor === undefined || cursor === '' ? {} : { cursor }) };
    if (overdue === true || scan === true) {
      res.json(await healthPage(principal, paging, overdue === true, scan === true));
      return;
    }
    const page = await inventory.list(paging);
    for (const error of page.unreadable) unreadable.report(error);
    // A caller sees what it could GET; the page may hold fewer than `limit` items (even none)
    // while nextCursor goes on. An unreadable record shows only its CN, to whoever covers that.
    res.json({
      items: page.items.filter((r) => mayRead(principal, r, trustDomain)).map((r) => certificateResponse(r)),
      nextCursor: page.nextCursor ?? null,
      unreadable: page.unreadable.filter((error) => coversName(principal, error.commonName)).map((error) => error.commonName),
    });
  };

  /**
   * ?overdue=true (the renew-time index) or ?unreadable=true (the decode scan): what `fsm-certs
   * check` asks, shown under the same rules as the list.
   */
  const healthPage = async (principal: Principal, paging: { limit: number; cursor?: string }, overdue: boolean, scan: boolean): Promise<CertificateList> => {
    const health = deps.inventoryHealth;
    if (overdue && scan) throw new GatewayError('INVALID_QUERY', 'Ask for overdue=true or unreadable=true, not both: they page differently.');
    if (health === undefined) throw new GatewayError('BACKEND_UNAVAILABLE', 'This gateway has no inventory index to answer overdue=true or unreadable=true.', { retryAfterSeconds: 30 });
    const shown = (errors: readonly UnreadableRecordError[]): string[] => {
      for (const error of errors) unreadable.report(error);
      return errors.filter((error) => coversName(principal, error.commonName)).map((error) => error.commonName);
    };
    try {
      if (scan) {
        const page = await health.unreadable(paging);
        return { items: [], nextCursor: page.nextCursor ?? null, unreadable: shown(page.unreadable) };
      }
      const [page, size] = await Promise.all([health.overdue({ ...paging, atMs: deps.clock.now() }), principal.names.unrestricted ? inventory.size() : undefined]);
      return {
        items: page.items.filter((r) => mayRead(principal, r, trustDomain)).map((r) => certificateResponse(r)),
        nextCursor: page.nextCursor ?? null,
        unreadable: shown(page.unreadable),
        ...(size === undefined ? {} : { inventorySize: size }),
      };
    } catch (error) {
      // A cursor of the name-ordered list (or made up) given to the overdue index.
      if (error instanceof QueueError && error.code === 'INVALID_ARGUMENT') throw new GatewayError('INVALID_QUERY', error.message, { cause: error });
      throw error;
    }
  };

  const get: RequestHandler = async (req, res) => {
    const cn = cnParam(req);
    const includeKey = parseOr(getCertificate.query, req.query, 'INVALID_QUERY', 'query').includeKey ?? false;
    const principal = principalOf(req);
    if (includeKey && !principal.isAdmin) {
      throw new GatewayError('FORBIDDEN', 'includeKey=true needs an admin token; workloads get their key only in the issue response.');
    }
    requireNameCovered(principal, cn);
    const record = await read(cn);
    if (record === undefined) throw new GatewayError('CERTIFICATE_NOT_FOUND', `No certificate for "${cn}"; issue one with POST /v1/certificates.`);
    // Reading needs every name like any other operation on a stored certificate (a `*` caller
    // reads all, wildcards included: mayRead's shortcut); the key needs every name under the
    // wildcard rule too. One coverage check either way.
    if (includeKey || !principal.names.unrestricted) requireCoverage(principal, certificateNames(record), trustDomain, 'stored');
    if (includeKey) {
      // Handing out a stored key is a decision like issuing it.
      await auditor.granted(req, res, 'getCertificate', 'reused', { certificate: record });
    }
    res.json(certificateResponse(record, includeKey ? openKey(kek, record) : undefined));
  };

  const rotate: RequestHandler = async (req, res) => {
    const cn = cnParam(req);
    const principal = principalOf(req);
    requireNameCovered(principal, cn);
    const current = await read(cn);
    if (current === undefined) throw new GatewayError('CERTIFICATE_NOT_FOUND', `No certificate for "${cn}" to rotate; issue one first.`);
    requireCoverage(principal, certificateNames(current), trustDomain, 'stored');
    const item = rotationItem(current);
    requirePolicy(principal, item);
    const record = await batcher.submit(item);
    await auditor.granted(req, res, 'rotateCertificate', 'rotated', { certificate: record });
    res.json(certificateResponse(record, current.csrPem === undefined ? openKey(kek, record) : undefined));
  };

  const release: RequestHandler = async (req, res) => {
    const cn = cnParam(req);
    const principal = principalOf(req);
    requireNameCovered(principal, cn);
    // Remove only the serial that was authorised: a certificate re-issued in between (perhaps
    // with other names) is checked again rather than removed on the strength of the old one.
    let removed: RemovedRecord | undefined;
    for (let attempt = 0; removed === undefined; attempt++) {
      let expectSerial: string;
      try {
        const current = await inventory.get(cn);
        if (current === undefined) throw new GatewayError('CERTIFICATE_NOT_FOUND', `No certificate for "${cn}".`);
        requireCoverage(principal, certificateNames(current), trustDomain, 'stored');
        expectSerial = current.serialNumber;
      } catch (error) {
        if (!isUnreadableRecord(error)) throw error;
        // Deleting is how an unreadable record goes away, but its names cannot be read to be
        // checked: only a caller that may have every name may do it.
        if (!principal.names.unrestricted) {
          throw new GatewayError('NAME_NOT_ALLOWED', `The record for "${cn}" cannot be read, so its names cannot be checked; an operator token with the "*" pattern must release it.`, {
            cause: error,
          });
        }
        expectSerial = error.serialNumber ?? '';
      }
      const outcome = await inventory.deleteSerial(cn, expectSerial);
      if (outcome === undefined) throw new GatewayError('CERTIFICATE_NOT_FOUND', `No certificate for "${cn}".`);
      if (outcome !== 'changed') removed = outcome;
      else if (attempt >= 2) throw new GatewayError('BACKEND_UNAVAILABLE', `The certificate for "${cn}" keeps changing while being released; retry.`, { retryAfterSeconds: 1 });
    }
    const { serialNumber } = removed;
    await auditor.granted(req, res, 'deleteCertificate', 'released', removed.record === undefined ? { commonName: cn, names: [cn], serialNumber } : { certificate: removed.record });
    try {
      if (serialNumber === undefined) throw new Error('the removed hash held no serial to announce');
      await deps.events.publish({ version: 1, at: new Date(deps.clock.now()).toISOString(), kind: 'released', commonName: cn, serialNumber });
    } catch (error) {
      // The delete happened; a lost announcement must not turn it into an error for the caller.
      deps.logger?.warn({ err: error, commonName: cn }, 'released event not published');
    }
    res.status(204).end();
  };

  return {
    issueCertificate: issue,
    listCertificates: list,
    getCertificate: audited(auditor, 'getCertificate', get),
    rotateCertificate: audited(auditor, 'rotateCertificate', rotate),
    deleteCertificate: audited(auditor, 'deleteCertificate', release),
  };
}
