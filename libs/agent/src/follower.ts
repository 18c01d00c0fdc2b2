// Follows GET /v1/events for as long as the agent runs. Each connection resumes after the last
// event id seen (Last-Event-ID), and every (re)connection is reported through onOpen: events
// may have been missed while disconnected (or trimmed from the gateway's bounded stream), so
// the agent re-reads everything then. A connection on which nothing arrives — not even the
// gateway's keep-alive comment every 15 s — for idleTimeoutMs is dropped and made again.
import { GatewayRequestError, problemSchema, readEventStream, type GatewayEvent } from '@fsm-certs/client';
import type { RandomSource } from '@fsm-certs/core';
import { backoffDelay, type BackoffPolicy } from './backoff.js';
import type { AgentClock } from './clock.js';
import { AgentError } from './errors.js';
import { unreachable, type GatewayAccess } from './gateway.js';

export interface FollowerOptions {
  readonly gateway: GatewayAccess;
  readonly clock: AgentClock;
  readonly random: RandomSource;
  readonly backoff: BackoffPolicy;
  readonly idleTimeoutMs: number;
  readonly signal: AbortSignal;
  /** The stream is open (HTTP 200); `resumed` when it continues after an event id. */
  readonly onOpen: (resumed: boolean) => void;
  readonly onEvent: (event: GatewayEvent) => void;
  /** The stream ended or could not be opened; the next attempt follows after `retryInMs`. */
  readonly onClose: (error: unknown, retryInMs: number) => void;
  /** The last event id seen, kept across connections. */
  readonly onEventId?: (id: string) => void;
}

/** The contract's problem, tolerating a proxy's or an older gateway's missing descriptive fields. */
const receivedProblemSchema = problemSchema.partial({ type: true, title: true, detail: true });

async function refusal(res: Response): Promise<GatewayRequestError> {
  const text = await res.text().catch(() => '');
  let code = `HTTP_${res.status}`;
  let detail = text.slice(0, 200);
  try {
    const problem = receivedProblemSchema.safeParse(JSON.parse(text));
    if (problem.success) {
      code = problem.data.code;
      detail = problem.data.detail ?? problem.data.title ?? '';
    }
  } catch {
    // not JSON
  }
  return new GatewayRequestError(res.status, code, `GET /v1/events: ${code}: ${detail}`, undefined, undefined);
}

/** Passes the body through, calling `touch` on every chunk (keep-alive comments included). */
function watched(body: ReadableStream<Uint8Array>, touch: () => void): ReadableStream<Uint8Array> {
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        touch();
        controller.enqueue(chunk);
      },
    }),
  );
}

export async function followEvents(options: FollowerOptions): Promise<void> {
  const { gateway, signal } = options;
  let lastEventId: string | undefined;
  let failures = 0;
  while (!signal.aborted) {
    const connection = new AbortController();
    const stop = (): void => connection.abort();
    signal.addEventListener('abort', stop, { once: true });
    let idle: NodeJS.Timeout | undefined;
    const touch = (): void => {
      clearTimeout(idle);
      idle = setTimeout(
        () => connection.abort(new AgentError('GATEWAY_UNREACHABLE', `GET /v1/events: nothing (not even a keep-alive) from ${gateway.baseUrl} for ${options.idleTimeoutMs} ms; reconnecting`)),
        options.idleTimeoutMs,
      );
    };
    let closeError: unknown;
    try {
      const headers: Record<string, string> = { accept: 'text/event-stream', ...(await gateway.authHeaders()) };
      if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
      touch();
      const res = await fetch(`${gateway.baseUrl}/v1/events`, { headers, signal: connection.signal });
      if (!res.ok || res.body === null) throw await refusal(res);
      failures = 0;
      options.onOpen(lastEventId !== undefined);
      for await (const event of readEventStream(watched(res.body, touch))) {
        if (event.id !== '') {
          lastEventId = event.id;
          options.onEventId?.(event.id);
        }
        options.onEvent(event);
      }
    } catch (error) {
      closeError = error;
    } finally {
      clearTimeout(idle);
      signal.removeEventListener('abort', stop);
    }
    // Our own idle abort may end the stream quietly or with an AbortError: either way, say why.
    if (connection.signal.aborted && !signal.aborted) closeError = connection.signal.reason;
    if (signal.aborted) return;
    failures += 1;
    const retryInMs = backoffDelay(failures, options.backoff, options.random);
    const reported = closeError === undefined ? undefined : (unreachable(closeError, gateway.baseUrl, 'GET /v1/events') ?? closeError);
    options.onClose(reported, retryInMs);
    await options.clock.sleep(retryInMs, signal);
  }
}
