// GET /v1/events: the announcement stream as Server-Sent Events. `id:` is the Redis stream id,
// so a reconnecting client's Last-Event-ID resumes exactly after the last event it saw. The
// stream is bounded: when events a client should have had were trimmed, it gets `event: reset`
// (no id, so its Last-Event-ID stays put) before the oldest kept one, and must re-list.
// `: subscribed` says the subscription is in place; `: keep-alive` comments keep idle
// connections open through proxies.
import type { Request, RequestHandler, Response } from 'express';
import { OPERATIONS, STREAM_RESET_EVENT, type StreamReset } from '@fsm-certs/api';
import { compareStreamIds, type StreamGap, type StreamedEvent } from '@fsm-certs/queue';
import { principalOf } from '../auth/middleware.js';
import { coversName } from '../auth/certificate-names.js';
import type { Principal } from '../auth/tokens.js';
import { GatewayError } from '../errors.js';
import type { EventHub, HubSubscription } from './event-hub.js';
import type { GatewayDeps } from '../deps.js';
import { parseOr } from '../http/validate.js';
import type { OperationHandlers } from './table.js';

const { streamEvents } = OPERATIONS;

/** Where to resume: Last-Event-ID, else ?lastEventId; an empty value means "only new events". */
function resumeFrom(req: Request): string | undefined {
  const header = req.headers['last-event-id'];
  const query = req.query['lastEventId'];
  const headers = parseOr(streamEvents.headers, header === '' ? {} : { 'last-event-id': header }, 'INVALID_QUERY', 'Last-Event-ID');
  const params = parseOr(streamEvents.query, query === '' ? {} : req.query, 'INVALID_QUERY', 'query');
  return headers['last-event-id'] ?? params.lastEventId;
}

/** The SSE message telling a client that events were trimmed before it could get them. */
export function resetMessage(gap: StreamGap): string {
  const data: StreamReset = { reason: gap.reason, lastEventId: gap.lastEventId, oldestId: gap.oldestId };
  return `event: ${STREAM_RESET_EVENT}\ndata: ${JSON.stringify(data)}\n\n`;
}

function write(res: Response, chunk: string): Promise<void> {
  if (res.write(chunk)) return Promise.resolve();
  // A slow reader: wait for the socket to drain instead of buffering without bound.
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Open SSE streams per caller, against the per-caller and global caps. */
export class OpenStreams {
  private readonly controllers = new Set<AbortController>();
  private readonly perCaller = new Map<string, number>();

  constructor(private readonly limits: { readonly maxStreamsPerCaller: number; readonly maxStreams: number }) {}

  /** Registers a stream, or throws 429 (this caller's cap) / 503 (the gateway's). */
  open(caller: string, label: string): { controller: AbortController; release(): void } {
    const mine = this.perCaller.get(caller) ?? 0;
    if (mine >= this.limits.maxStreamsPerCaller) {
      throw new GatewayError('RATE_LIMITED', `${label} already holds ${mine} event streams, its limit; close one before opening another.`, { retryAfterSeconds: 5 });
    }
    if (this.controllers.size >= this.limits.maxStreams) {
      throw new GatewayError('BACKEND_UNAVAILABLE', `This gateway serves its limit of ${this.limits.maxStreams} event streams; retry, or connect to another replica.`, {
        retryAfterSeconds: 5,
      });
    }
    const controller = new AbortController();
    this.controllers.add(controller);
    this.perCaller.set(caller, mine + 1);
    let released = false;
    return {
      controller,
      release: () => {
        if (released) return;
        released = true;
        this.controllers.delete(controller);
        const left = (this.perCaller.get(caller) ?? 1) - 1;
        if (left <= 0) this.perCaller.delete(caller);
        else this.perCaller.set(caller, left);
      },
    };
  }

  closeAll(): void {
    for (const c of this.controllers) c.abort();
  }
}

function eventMessage({ id, event }: StreamedEvent): string {
  return `id: ${id}\nevent: ${event.kind}\ndata: ${JSON.stringify(event)}\n\n`;
}

/**
 * Whether `principal` gets this event: trust-bundle and root-rotation events go to every reader;
 * a certificate event only to callers whose patterns cover its common name. Events carry the CN
 * and serial only, never the certificate's other names, so nothing beyond the CN is revealed.
 */
export function eventVisibleTo(principal: Principal, { event }: StreamedEvent): boolean {
  return !('commonName' in event) || coversName(principal, event.commonName);
}

/** Pages of catch-up read for a resuming client: the stream holds ~10 000 events, 100 a page. */
const MAX_CATCH_UP_PAGES = 200;

export function eventsHandlers(deps: GatewayDeps, streams: OpenStreams, hub: EventHub): Pick<OperationHandlers, 'streamEvents'> {
  const logger = deps.logger;
  const handler: RequestHandler = async (req, res) => {
    const lastEventId = resumeFrom(req);
    const principal = principalOf(req);
    const stream = streams.open(`${principal.kind}:${principal.name}`, principal.label);
    const { controller } = stream;
    let subscription: HubSubscription | undefined;
    res.on('close', () => {
      controller.abort();
      subscription?.close();
    });
    controller.signal.addEventListener('abort', () => subscription?.close(), { once: true });
    res.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    res.write('retry: 2000\n\n');
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), deps.options.sseHeartbeatMs ?? 15_000);
    try {
      subscription = await hub.join();
      if (controller.signal.aborted) return;
      res.write(': subscribed\n\n');
      let last = lastEventId;
      if (last !== undefined) {
        // Catch up on the shared connection; the hub buffers what arrives meanwhile.
        for (let page = 0; page < MAX_CATCH_UP_PAGES && !controller.signal.aborted; page++) {
          const read = await deps.events.readAfter(last);
          if (read.gap !== undefined) {
            logger?.info({ lastEventId: read.gap.lastEventId, oldestId: read.gap.oldestId }, 'SSE client missed trimmed events; sent reset');
            res.write(resetMessage(read.gap));
          }
          for (const event of read.events) if (eventVisibleTo(principal, event)) await write(res, eventMessage(event));
          if (read.lastId === undefined) break;
          last = read.lastId;
        }
      }
      for await (const message of subscription) {
        if (message.kind === 'gap') {
          res.write(resetMessage(message.gap));
          continue;
        }
        if (last !== undefined && compareStreamIds(message.event.id, last) <= 0) continue;
        last = message.event.id;
        if (!eventVisibleTo(principal, message.event)) continue;
        await write(res, eventMessage(message.event));
        if (controller.signal.aborted) break;
      }
      if (subscription.overflowed) logger?.info({ caller: principal.name }, 'SSE client fell too far behind; its stream was ended to reconnect');
    } catch (error) {
      logger?.warn({ err: error }, 'event stream ended');
    } finally {
      clearInterval(heartbeat);
      controller.abort();
      subscription?.close();
      stream.release();
      res.end();
    }
  };
  return { streamEvents: handler };
}
