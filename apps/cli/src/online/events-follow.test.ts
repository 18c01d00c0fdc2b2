// followEvents against a small SSE server in this process: the gateway's stream is a process
// boundary, so a fake of it is fair; what matters is what goes over the wire on reconnect.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayRequestError } from '@fsm-certs/client';
import { followEvents } from './events.js';
import { openGateway } from './gateway.js';

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => (server === undefined ? resolve(undefined) : server.close(resolve)));
  server = undefined;
});

/** Each /v1/events request gets the next script: events to send, then the stream closes. */
async function sseServer(scripts: Array<{ status?: number; events: Array<{ id?: string; type: string; data: object }> }>): Promise<{ url: string; requests: IncomingHttpHeaders[] }> {
  const requests: IncomingHttpHeaders[] = [];
  server = createServer((req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    requests.push(req.headers);
    const script = scripts.shift() ?? { events: [] };
    if (script.status !== undefined) {
      res.writeHead(script.status, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ status: script.status, code: 'UNAUTHENTICATED', detail: 'unknown token' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(script.events.map((e) => `${e.id === undefined ? '' : `id: ${e.id}\n`}event: ${e.type}\ndata: ${JSON.stringify(e.data)}\n\n`).join(''));
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { url: `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`, requests };
}

describe('followEvents', () => {
  it('resumes a dropped stream after the last id it printed, so no event is lost or repeated', async () => {
    const { url, requests } = await sseServer([
      { events: [{ id: '10-0', type: 'issued', data: { commonName: 'a.example', serialNumber: '01' } }] },
      { events: [{ id: '11-0', type: 'rotated', data: { commonName: 'a.example', serialNumber: '02', previousSerialNumber: '01' } }] },
    ]);
    const lines: string[] = [];
    const notes: string[] = [];
    await followEvents(openGateway({ server: url, token: 't', source: '--server' }), { from: '9-0', count: 2, signal: new AbortController().signal, reconnectDelayMs: 10 }, (l) => lines.push(l), (n) => notes.push(n));
    expect(lines).toEqual([
      '10-0  issued                a.example  serial=01',
      '11-0  rotated               a.example  serial=02  previous=01',
    ]);
    expect(requests.map((h) => h['last-event-id'])).toEqual(['9-0', '10-0']);
    expect(requests[0]?.authorization).toBe('Bearer t');
    expect(notes).toEqual([`following events at ${url}/v1/events after 9-0 (Ctrl-C stops)`, 'the gateway ended the stream; reconnecting']);
  });

  it('prints a reset on its own line and explains it, without counting it or moving the resume point', async () => {
    const { url, requests } = await sseServer([
      {
        events: [
          { type: 'reset', data: { reason: 'trimmed', lastEventId: '9-0', oldestId: '500-0' } },
          { id: '500-0', type: 'issued', data: { commonName: 'a.example', serialNumber: '01' } },
        ],
      },
      { events: [{ id: '501-0', type: 'issued', data: { commonName: 'b.example', serialNumber: '02' } }] },
    ]);
    const lines: string[] = [];
    const notes: string[] = [];
    await followEvents(openGateway({ server: url, token: 't', source: '--server' }), { from: '9-0', count: 2, signal: new AbortController().signal, reconnectDelayMs: 10 }, (l) => lines.push(l), (n) => notes.push(n));
    expect(lines).toEqual([
      '-  reset                 -  reason=trimmed  after=9-0  oldest=500-0',
      '500-0  issued                a.example  serial=01',
      '501-0  issued                b.example  serial=02',
    ]);
    expect(notes).toContain("events after 9-0 were trimmed from the gateway's stream before they could be shown; continuing with 500-0. Re-read the inventory (fsm-certs cert list) for what changed meanwhile");
    expect(requests.map((h) => h['last-event-id'])).toEqual(['9-0', '500-0']);
  });

  it('stops when aborted (Ctrl-C) while waiting to reconnect', async () => {
    const { url } = await sseServer([]);
    const stop = new AbortController();
    const notes: string[] = [];
    // Ctrl-C once it says it is waiting to reconnect (a minute away).
    const onNote = (note: string): void => {
      notes.push(note);
      if (note.includes('reconnecting')) stop.abort();
    };
    const done = followEvents(openGateway({ server: url, token: 't', source: '--server' }), { signal: stop.signal, reconnectDelayMs: 60_000 }, () => undefined, onNote);
    await expect(done).resolves.toBeUndefined();
    expect(notes.at(-1)).toBe('the gateway ended the stream; reconnecting');
  });

  it('gives up at once on a refusal instead of reconnecting forever', async () => {
    const { url, requests } = await sseServer([{ status: 401, events: [] }]);
    const error = await followEvents(openGateway({ server: url, token: 'bad', source: '--server' }), { signal: new AbortController().signal, reconnectDelayMs: 10 }, () => undefined, () => undefined).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayRequestError);
    expect((error as GatewayRequestError).code).toBe('UNAUTHENTICATED');
    expect(requests).toHaveLength(1);
  });
});
