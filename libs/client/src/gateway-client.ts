// Typed client for the issuer-gateway HTTP API. Every response is validated with zod; every
// non-2xx answer becomes a GatewayRequestError carrying the problem+json code.
import type { z } from 'zod';
import { GatewayRequestError } from './errors.js';
import {
  auditPageSchema,
  certificateListSchema,
  certificateResponseSchema,
  problemSchema,
  rootRotationStatusSchema,
  trustBundleSchema,
  type RootRotationRequest,
  type RootRotationStatus,
  type AuditPage,
  type CertificateList,
  type CertificateResponse,
  type GatewayEvent,
  type IssueCertificateInput,
  type TrustBundleResponse,
} from './schemas.js';
import { readEventStream } from './sse.js';

export interface GatewayClientOptions {
  readonly baseUrl: string;
  readonly token?: string;
  /** Per-request timeout; default 60 s. */
  readonly timeoutMs?: number;
}

export class GatewayClient {
  private readonly baseUrl: string;

  constructor(private readonly options: GatewayClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  issue(input: IssueCertificateInput): Promise<CertificateResponse> {
    return this.json('POST', '/v1/certificates', certificateResponseSchema, input);
  }

  get(commonName: string): Promise<CertificateResponse> {
    return this.json('GET', `/v1/certificates/${encodeURIComponent(commonName)}`, certificateResponseSchema);
  }

  /**
   * One page of GET /v1/certificates: in name order, or with `overdue` only the certificates past
   * their renew time (by renew time), or with `unreadable` only the names of records that do not
   * decode (a scan of `limit` records).
   */
  list(params: { limit?: number; cursor?: string; overdue?: boolean; unreadable?: boolean } = {}): Promise<CertificateList> {
    const query = new URLSearchParams();
    if (params.limit !== undefined) query.set('limit', String(params.limit));
    if (params.cursor !== undefined) query.set('cursor', params.cursor);
    if (params.overdue === true) query.set('overdue', 'true');
    if (params.unreadable === true) query.set('unreadable', 'true');
    const suffix = query.size > 0 ? `?${query.toString()}` : '';
    return this.json('GET', `/v1/certificates${suffix}`, certificateListSchema);
  }

  /** One page of the audit trail (admin token), oldest first. */
  audit(params: { name?: string; caller?: string; outcome?: string; since?: string; until?: string; limit?: number; cursor?: string } = {}): Promise<AuditPage> {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) if (value !== undefined) query.set(key, String(value));
    const suffix = query.size > 0 ? `?${query.toString()}` : '';
    return this.json('GET', `/v1/audit${suffix}`, auditPageSchema);
  }

  rotate(commonName: string): Promise<CertificateResponse> {
    return this.json('POST', `/v1/certificates/${encodeURIComponent(commonName)}/rotate`, certificateResponseSchema);
  }

  async release(commonName: string): Promise<void> {
    await this.request('DELETE', `/v1/certificates/${encodeURIComponent(commonName)}`);
  }

  trustBundle(): Promise<TrustBundleResponse> {
    return this.json('GET', '/v1/ca', trustBundleSchema, undefined, 'application/json');
  }

  /** GET /v1/ca/rotation (admin): the staged root rotation's status. */
  rootRotation(): Promise<RootRotationStatus> {
    return this.json('GET', '/v1/ca/rotation', rootRotationStatusSchema);
  }

  /** POST /v1/ca/rotation (admin): start, activate, retire, pause, resume or roll back. */
  changeRootRotation(request: RootRotationRequest): Promise<RootRotationStatus> {
    return this.json('POST', '/v1/ca/rotation', rootRotationStatusSchema, request);
  }

  async trustBundlePem(): Promise<string> {
    const res = await this.request('GET', '/v1/ca', undefined, 'application/x-pem-file');
    return res.text();
  }

  /**
   * Follows /v1/events; resumes after `lastEventId` when given. Ends when the signal aborts.
   * `onSubscribed` runs once the gateway's subscription is in place (events published from then
   * on will arrive). A `reset` event (see streamResetOf) means events were trimmed: re-list.
   */
  async *events(options: { lastEventId?: string; signal?: AbortSignal; onSubscribed?: () => void } = {}): AsyncGenerator<GatewayEvent> {
    const headers: Record<string, string> = { accept: 'text/event-stream', ...this.authHeader() };
    if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId;
    const res = await fetch(`${this.baseUrl}/v1/events`, { headers, ...(options.signal ? { signal: options.signal } : {}) });
    if (!res.ok || res.body === null) throw await toError(res);
    try {
      const { onSubscribed } = options;
      const onComment = (text: string): void => {
        if (text === 'subscribed') onSubscribed?.();
      };
      yield* readEventStream(res.body, { onComment });
    } catch (error) {
      if (options.signal?.aborted === true) return;
      throw error;
    }
  }

  /** Raw request for status-code checks in tests and the CLI. */
  async request(method: string, path: string, body?: unknown, accept = 'application/json'): Promise<Response> {
    const headers: Record<string, string> = { accept, ...this.authHeader() };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 60_000),
    });
    if (!res.ok) throw await toError(res);
    return res;
  }

  private async json<S extends z.ZodType>(method: string, path: string, schema: S, body?: unknown, accept?: string): Promise<z.infer<S>> {
    const res = await this.request(method, path, body, accept);
    const parsed = schema.safeParse(await res.json());
    if (!parsed.success) {
      throw new GatewayRequestError(res.status, 'UNEXPECTED_RESPONSE', `${method} ${path}: unexpected response shape: ${parsed.error.message}`, undefined, undefined);
    }
    return parsed.data;
  }

  private authHeader(): Record<string, string> {
    return this.options.token === undefined ? {} : { authorization: `Bearer ${this.options.token}` };
  }
}

/**
 * Problems are read with the contract's schema, tolerating missing descriptive fields: the
 * `code` is what a caller branches on, and a proxy or an older gateway may leave the rest out.
 */
const receivedProblemSchema = problemSchema.partial({ type: true, title: true, detail: true });

async function toError(res: Response): Promise<GatewayRequestError> {
  const retryAfter = res.headers.get('retry-after');
  const retryAfterSeconds = retryAfter === null ? undefined : Number(retryAfter);
  const text = await res.text();
  let problem;
  try {
    const parsed = receivedProblemSchema.safeParse(JSON.parse(text));
    if (parsed.success) problem = parsed.data;
  } catch {
    // not JSON
  }
  const message = problem === undefined ? `HTTP ${res.status}: ${text.slice(0, 200)}` : `${problem.code}: ${problem.detail ?? problem.title ?? ''}`;
  return new GatewayRequestError(res.status, problem?.code ?? `HTTP_${res.status}`, message, retryAfterSeconds, problem);
}
