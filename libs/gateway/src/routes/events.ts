// GET /v1/events: the announcement stream as Server-Sent Events. `id:` is the Redis stream id,
// so a reconnecting client's Last-Event-ID resumes exactly after the last event it saw.
// Comment lines keep idle connections alive through proxies.
import type { Express, RequestHandler, Response } from 'express';
import { GatewayError } from '../errors.js';
import type { GatewayDeps } from '../deps.js';

const STREAM_ID = /^\d{1,20}-\d{1,20}$|^\d{1,20}$/;

function resumeFrom(header: string | undefined, query: unknown): string | undefined {
  const value = header ?? (typeof query === 'string' ? query : undefined);
  if (value === undefined || value === '') return undefined;
  if (!STREAM_ID.test(value)) throw new GatewayError('INVALID_QUERY', 'Last-Event-ID must be an event id received from this stream (like 1700000000000-0).');
  return value;
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

export function registerEventsRoute(app: Express, deps: GatewayDeps, guard: RequestHandler, streams: OpenStreams): void {
  app.get('/v1/events', guard, async (req, res) => {
    const lastEventId = resumeFrom(req.get('last-event-id'), req.query['lastEventId']);
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
  });
}
