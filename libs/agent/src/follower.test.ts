// The event follower against a local SSE server that can do what the real gateway will not on
// demand: end a stream mid-way, stall without a byte, refuse the token, send `reset`.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GatewayEvent } from '@fsm-certs/client';
import { afterEach, describe, expect, it } from 'vitest';
import { systemAgentClock } from './clock.js';
import { followEvents } from './follower.js';
import { gatewayAccess } from './gateway.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, connection: number) => void;

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => (s.closeAllConnections(), s.close(() => resolve())))));
});

async function sseServer(handler: Handler): Promise<{ url: string; headers: http.IncomingHttpHeaders[] }> {
  const headers: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    headers.push(req.headers);
    handler(req, res, headers.length);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, headers };
}

function openStream(res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.write('retry: 2000\n\n');
}

interface Seen {
  opens: boolean[];
  events: GatewayEvent[];
  closes: Array<{ code: string | undefined }>;
}

function follow(url: string, stopWhen: (seen: Seen) => boolean, idleTimeoutMs = 30_000): Promise<Seen> {
  const seen: Seen = { opens: [], events: [], closes: [] };
  const abort = new AbortController();
  const check = (): void => {
    if (stopWhen(seen)) abort.abort();
  };
  return followEvents({
    gateway: gatewayAccess({ baseUrl: url, token: { token: 'workload-token' }, timeoutMs: 5_000 }),
    clock: systemAgentClock,
    random: () => 0.5,
    backoff: { initialMs: 10, maxMs: 40 },
    idleTimeoutMs,
    signal: abort.signal,
    onOpen: (resumed) => (seen.opens.push(resumed), check()),
    onEvent: (event) => (seen.events.push(event), check()),
    onClose: (error) => (seen.closes.push({ code: (error as { code?: string } | undefined)?.code }), check()),
  }).then(() => seen);
}

describe('the event follower', () => {
  it('reconnects after the gateway ends the stream, resuming after the last id and saying so', async () => {
    const { url, headers } = await sseServer((_req, res, n) => {
      openStream(res);
      if (n === 1) res.end('id: 1-0\nevent: rotated\ndata: {"kind":"rotated"}\n\n');
      else res.write(': keep-alive\n\n');
    });
    const seen = await follow(url, (s) => s.opens.length === 2);
    expect(seen.opens).toEqual([false, true]);
    expect(seen.events.map((e) => [e.id, e.type])).toEqual([['1-0', 'rotated']]);
    expect(seen.closes).toEqual([{ code: undefined }]);
    expect(headers[0]?.['last-event-id']).toBeUndefined();
    expect(headers[1]?.['last-event-id']).toBe('1-0');
    expect(headers[1]?.authorization).toBe('Bearer workload-token');
  });

  it('hands over a reset (events trimmed before we saw them) and keeps the resume point', async () => {
    const { url, headers } = await sseServer((_req, res, n) => {
      openStream(res);
      if (n === 1) res.end('id: 5-0\nevent: issued\ndata: {}\n\nevent: reset\ndata: {"reason":"trimmed","lastEventId":"5-0","oldestId":"9-0"}\n\n');
      else res.write(': keep-alive\n\n');
    });
    const seen = await follow(url, (s) => s.opens.length === 2);
    expect(seen.events.map((e) => e.type)).toEqual(['issued', 'reset']);
    expect(headers[1]?.['last-event-id']).toBe('5-0');
  });

  it('drops a stream on which nothing arrives, not even a keep-alive, and connects again', async () => {
    const { url } = await sseServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
    });
    const seen = await follow(url, (s) => s.opens.length === 2, 150);
    expect(seen.closes[0]?.code).toBe('GATEWAY_UNREACHABLE');
  });

  it('reports a refused token with the gateway\'s problem code and keeps trying', async () => {
    const { url } = await sseServer((_req, res) => {
      res.writeHead(401, { 'content-type': 'application/problem+json' });
      res.end(JSON.stringify({ type: 'https://fsm-certs.dev/problems/unauthenticated', title: 'Unauthenticated', status: 401, detail: 'Unknown token.', code: 'UNAUTHENTICATED' }));
    });
    const seen = await follow(url, (s) => s.closes.length === 3);
    expect(seen.opens).toEqual([]);
    expect(seen.closes.map((c) => c.code)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED']);
  });
});
