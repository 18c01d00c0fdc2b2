// Records every decision about a certificate once, before the answer is sent: in Redis (the
// trail GET /v1/audit reads) and as one JSON log line. A success whose record cannot be written
// is not answered as a success (503; the client's retry is answered by reuse), so a gateway
// killed at any moment leaves no answered request unrecorded.
//
// Writes are gathered: every record handed over while the current run of promise callbacks
// goes on is written in ONE call, when it ends (process.nextTick runs after the microtask queue
// drains). A batch's answers all resume in one such run (the batcher settles a job's requests in
// one loop), so a job's records cost one script call instead of one per request, and each
// request still waits for its own record to be in Redis before it is answered.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AUDIT_FIELD_LIMITS, type AuditOutcome, type AuditRecord } from '@fsm-certs/api';
import { randomUuid } from '@fsm-certs/core';
import type { CertificateRecord, IssueAuditContext } from '@fsm-certs/queue';
import { AuditLog, auditIdTime, auditNames, certificateAuditRecord } from '@fsm-certs/queue';
import { clientAddress, knownPrincipal } from '../auth/middleware.js';
import { committedAuditId } from './committed.js';
import type { GatewayLogger } from '../deps.js';
import { GatewayError, isGatewayError } from '../errors.js';

export interface AuditPort {
  /** Stores every record, or none; resolves once all are stored. */
  appendMany(records: readonly AuditRecord[]): Promise<void>;
}

interface Queued {
  readonly record: AuditRecord;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** Gathers the records handed over in one run of callbacks into one appendMany. */
class GatheredWrites {
  private queued: Queued[] = [];

  constructor(private readonly port: AuditPort) {}

  write(record: AuditRecord): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.queued.length === 0) process.nextTick(() => this.flush());
      this.queued.push({ record, resolve, reject });
    });
  }

  private flush(): void {
    const batch = this.queued;
    this.queued = [];
    let written: Promise<void>;
    try {
      written = this.port.appendMany(batch.map((q) => q.record));
    } catch (error) {
      // A port that throws instead of rejecting must not take the process down from nextTick.
      written = Promise.reject(error);
    }
    written.then(
      () => {
        for (const q of batch) q.resolve();
      },
      (error: unknown) => {
        for (const q of batch) q.reject(error);
      },
    );
  }
}

const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;
const requestIds = new WeakMap<IncomingMessage, string>();

/**
 * The request's id: its X-Request-Id when sane, else a fresh one, the same on every call. The
 * caller sends it back as X-Request-Id (requestIdOf does).
 */
export function requestIdFor(req: IncomingMessage): string {
  let id = requestIds.get(req);
  if (id === undefined) {
    const given = req.headers['x-request-id'];
    id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUuid();
    requestIds.set(req, id);
  }
  return id;
}

/** requestIdFor, set as the X-Request-Id header of the answer unless it is already sent. */
export function requestIdOf(req: IncomingMessage, res: ServerResponse): string {
  const id = requestIdFor(req);
  if (!res.headersSent && !res.hasHeader('X-Request-Id')) res.setHeader('X-Request-Id', id);
  return id;
}

/** What a decision concerns: a stored certificate, or the names a refused request asked for. */
export type AuditSubject =
  | { readonly certificate: CertificateRecord }
  | { readonly commonName: string | null; readonly names: readonly string[]; readonly serialNumber?: string | undefined };

export class Auditor {
  private readonly writes: GatheredWrites | undefined;

  constructor(
    port: AuditPort | undefined,
    private readonly logger: GatewayLogger,
    private readonly now: () => number,
  ) {
    this.writes = port === undefined ? undefined : new GatheredWrites(port);
  }

  /**
   * The audit context of an issue request, for its queue item: the ca-service's commit stores the
   * record with the certificate under this id. Undefined when this gateway keeps no trail.
   */
  issueContext(req: IncomingMessage): IssueAuditContext | undefined {
    if (this.writes === undefined) return undefined;
    const caller = knownPrincipal(req)?.name ?? null;
    const address = clientAddress(req);
    // Beyond the trail's field limits the item would be refused: then the record is written here, as before.
    if ((caller?.length ?? 0) > AUDIT_FIELD_LIMITS.caller || (address?.length ?? 0) > AUDIT_FIELD_LIMITS.clientAddress) return undefined;
    return { id: AuditLog.newId(this.now()), operation: 'issueCertificate', caller, clientAddress: address, requestId: requestIdFor(req) };
  }

  private build(req: IncomingMessage, res: ServerResponse, operation: string, outcome: AuditOutcome, subject: AuditSubject, refusal?: GatewayError, preset?: IssueAuditContext): AuditRecord {
    const at = preset === undefined ? this.now() : auditIdTime(preset.id);
    const certificate = 'certificate' in subject ? subject.certificate : undefined;
    return {
      id: preset?.id ?? AuditLog.newId(at),
      at: new Date(at).toISOString(),
      outcome,
      operation,
      caller: knownPrincipal(req)?.name ?? null,
      clientAddress: clientAddress(req),
      requestId: requestIdOf(req, res),
      commonName: certificate?.commonName ?? ('commonName' in subject ? subject.commonName : null),
      names: certificate === undefined ? ('names' in subject ? [...subject.names] : []) : auditNames(certificate),
      serialNumber: certificate?.serialNumber ?? ('serialNumber' in subject ? (subject.serialNumber ?? null) : null),
      notBefore: certificate?.notBefore ?? null,
      notAfter: certificate?.notAfter ?? null,
      keyAlgorithm: certificate?.keyAlgorithm ?? null,
      provider: certificate?.provider ?? null,
      issuerId: certificate?.issuerId ?? null,
      code: refusal?.publicCode ?? null,
      status: refusal?.httpStatus ?? (outcome === 'issued' || outcome === 'reused' ? 201 : outcome === 'released' ? 204 : 200),
    };
  }

  /**
   * A granted decision: written before the answer; a failure to write refuses the answer. With the
   * request's issue context (issueContext): stored under its id, and not written again when the
   * ca-service's commit already stored it with the certificate (then only the log line is written).
   */
  async granted(req: IncomingMessage, res: ServerResponse, operation: string, outcome: AuditOutcome, subject: AuditSubject, context?: IssueAuditContext): Promise<void> {
    if (context !== undefined && 'certificate' in subject && committedAuditId(subject.certificate) === context.id) {
      // The record is in Redis already; this copy is only for the log line, so it is built only
      // when that line will be written (at LOG_LEVEL=warn it was a record per request for nothing).
      if (this.logger.isLevelEnabled?.('info') !== false) this.logger.info({ audit: certificateAuditRecord(context, 'issued', 201, subject.certificate) }, 'audit: issued');
      return;
    }
    const record = this.build(req, res, operation, outcome, subject, undefined, context);
    this.logger.info({ audit: record }, `audit: ${outcome}`);
    if (this.writes === undefined) return;
    try {
      await this.writes.write(record);
    } catch (error) {
      throw new GatewayError('BACKEND_UNAVAILABLE', 'The decision could not be written to the audit trail, so it is not answered; retry (the certificate is reused).', {
        cause: error,
        retryAfterSeconds: 2,
      });
    }
  }

  /** A refusal: recorded (a failed write is logged, the refusal still answered). */
  async refused(req: IncomingMessage, res: ServerResponse, operation: string, error: unknown, subject: AuditSubject): Promise<void> {
    if (!isGatewayError(error) || error.httpStatus >= 500) return;
    // An address already over its failed-authentication budget is not recorded again per request.
    if (error.code === 'RATE_LIMITED' && knownPrincipal(req) === undefined) return;
    const record = this.build(req, res, operation, 'refused', subject, error);
    this.logger.info({ audit: record }, 'audit: refused');
    try {
      await this.writes?.write(record);
    } catch (appendError) {
      this.logger.error({ err: appendError, requestId: record.requestId }, 'audit record of a refusal not written');
    }
  }
}

/** The names a request body asks for, as far as they can be read (for refusals). */
export function requestedNames(body: unknown): { commonName: string | null; names: string[] } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { commonName: null, names: [] };
  const { commonName, sans } = body as { commonName?: unknown; sans?: unknown };
  const cn = typeof commonName === 'string' ? commonName.slice(0, 253).toLowerCase() : null;
  const extra = Array.isArray(sans) ? sans.filter((s): s is string => typeof s === 'string').slice(0, 100).map((s) => s.slice(0, 2048)) : [];
  return { commonName: cn, names: [...(cn === null ? [] : [cn]), ...extra] };
}
