// GET /v1/events: the announcement stream as Server-Sent Events. `id:` is the Redis stream id,
// so a reconnecting client's Last-Event-ID resumes exactly after the last event it saw. The
// stream is bounded: when events a client should have had were trimmed, it gets `event: reset`
// (no id, so its Last-Event-ID stays put) before the oldest kept one, and must re-list.
// `: subscribed` says the subscription is in place; `: keep-alive` comments keep idle
// connections open through proxies.
import type { Request, RequestHandler, Response } from 'express';
import { OPERATIONS, STREAM_RESET_EVENT, type StreamReset } from '@fsm-certs/api';
import type { StreamGap } from '@fsm-certs/queue';
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

/** Open SSE streams, so shutdown can end them instead of waiting on subscribers. */
export class OpenStreams {
  private readonly controllers = new Set<AbortController>();
  add(controller: AbortController): void {
    this.controllers.add(controller);
  }
  delete(controller: AbortController): void {
    this.controllers.delete(controller);
  }
  closeAll(): void {
    for (const c of this.controllers) c.abort();
  }
}

export function eventsHandlers(deps: GatewayDeps, streams: OpenStreams): Pick<OperationHandlers, 'streamEvents'> {
  const handler: RequestHandler = async (req, res) => {
    const lastEventId = resumeFrom(req);
    const controller = new AbortController();
    streams.add(controller);
    res.on('close', () => controller.abort());
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
      const stream = deps.events.subscribe({
        ...(lastEventId === undefined ? {} : { fromId: lastEventId }),
        signal: controller.signal,
        onSubscribed: () => res.write(': subscribed\n\n'),
        onGap: (gap) => {
          deps.logger?.info({ lastEventId: gap.lastEventId, oldestId: gap.oldestId }, 'SSE client missed trimmed events; sent reset');
          res.write(resetMessage(gap));
        },
        onError: (error) => deps.logger?.warn({ err: error }, 'event stream read failed; retrying'),
      });
      for await (const { id, event } of stream) {
        await write(res, `id: ${id}\nevent: ${event.kind}\ndata: ${JSON.stringify(event)}\n\n`);
        if (controller.signal.aborted) break;
      }
    } catch (error) {
      deps.logger?.warn({ err: error }, 'event stream ended');
    } finally {
      clearInterval(heartbeat);
      controller.abort();
      streams.delete(controller);
      res.end();
    }
  };
  return { streamEvents: handler };
}
