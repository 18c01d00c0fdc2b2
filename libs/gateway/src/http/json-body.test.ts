// The lean JSON reader against a real HTTP server, and the issue route choosing between it and
// express.json(): same outcomes for every kind of body a client may send.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normaliseError } from './problem.js';
import { isJsonMediaType, parseByteLimit, readJsonBody } from './json-body.js';

let server: Server;
let base = '';
const LIMIT = 1024;

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    readJsonBody(req, LIMIT).then(
      (body) => res.end(JSON.stringify({ body: body === undefined ? '<none>' : body })),
      (error: unknown) => {
        const e = normaliseError(error);
        res.statusCode = e.httpStatus;
        res.end(JSON.stringify({ code: e.code }));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function post(body: string | Uint8Array | undefined, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown }> {
  const res = await fetch(base, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, ...(body === undefined ? {} : { body }) });
  return { status: res.status, json: await res.json() };
}

describe('readJsonBody', () => {
  it('parses an object and an array', async () => {
    expect(await post('{"commonName":"a.example.com"}')).toEqual({ status: 200, json: { body: { commonName: 'a.example.com' } } });
    expect(await post(' [1,2]')).toEqual({ status: 200, json: { body: [1, 2] } });
  });

  it('reads a body sent in many chunks (chunked transfer encoding)', async () => {
    const parts = ['{"commonName":', '"', 'x'.repeat(300), '"}'];
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const p of parts) controller.enqueue(new TextEncoder().encode(p));
        controller.close();
      },
    });
    const res = await fetch(base, { method: 'POST', headers: { 'content-type': 'application/json' }, body: stream, duplex: 'half' } as RequestInit);
    expect(await res.json()).toEqual({ body: { commonName: 'x'.repeat(300) } });
  });

  it('strips a UTF-8 byte order mark and keeps non-ASCII text intact', async () => {
    expect(await post('\ufeff{"n":"grüße"}')).toEqual({ status: 200, json: { body: { n: 'grüße' } } });
  });

  it('has no body without content', async () => {
    expect(await post(undefined)).toEqual({ status: 200, json: { body: '<none>' } });
  });

  it.each(['{"a":', 'null', '"text"', '42', 'true'])('refuses %j with INVALID_BODY (strict: object or array only)', async (text) => {
    expect(await post(text)).toEqual({ status: 400, json: { code: 'INVALID_BODY' } });
  });

  it('refuses a body over the limit with 413, declared or streamed, and keeps the connection usable', async () => {
    expect(await post(`{"a":"${'x'.repeat(LIMIT)}"}`)).toEqual({ status: 413, json: { code: 'BODY_TOO_LARGE' } });
    const big = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 4; i++) controller.enqueue(new TextEncoder().encode(i === 0 ? '{"a":"' : 'y'.repeat(400)));
        controller.enqueue(new TextEncoder().encode('"}'));
        controller.close();
      },
    });
    const res = await fetch(base, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
    expect(await post('{"after":true}')).toEqual({ status: 200, json: { body: { after: true } } });
  });
});

describe('isJsonMediaType', () => {
  it.each([
    ['application/json', true],
    ['Application/JSON; charset=UTF-8', true],
    ['application/json;charset="utf-8"', true],
    ['application/json; charset=utf8', true],
    ['application/json; charset=latin1', false],
    ['application/jsonp', false],
    ['application/merge-patch+json', false],
    ['text/plain', false],
  ])('content-type %j -> %s', (type, json) => {
    expect(isJsonMediaType(type)).toBe(json);
  });
});

describe('parseByteLimit', () => {
  it.each([
    ['64kb', 65536],
    ['1MB', 1048576],
    ['512b', 512],
    ['100', 100],
    ['1.5mb', undefined],
    ['lots', undefined],
  ])('%s -> %s', (text, bytes) => {
    expect(parseByteLimit(text)).toBe(bytes);
  });
});
