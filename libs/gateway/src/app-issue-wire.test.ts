// POST /v1/certificates as bytes on the wire: the head of an answer (which headers, in which
// order, with which values) is part of what clients see, whichever way the gateway writes it.
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { TOKENS, harnessPerTest } from './testing/harness.test-helpers.js';

const ctx = harnessPerTest();

interface RawAnswer {
  readonly statusLine: string;
  /** Header lines as sent, Date's value replaced by "<date>". */
  readonly headers: string[];
  readonly body: string;
}

/** One request on a fresh keep-alive connection, read as bytes up to the end of its body. */
async function rawPost(body: string, headers: Readonly<Record<string, string>>): Promise<RawAnswer> {
  const url = new URL(ctx.h.baseUrl);
  const head = [`POST /v1/certificates HTTP/1.1`, `Host: ${url.host}`, 'Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`];
  for (const [name, value] of Object.entries(headers)) head.push(`${name}: ${value}`);
  const socket = connect(Number(url.port), url.hostname);
  try {
    const bytes = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      socket.once('error', reject);
      socket.once('close', () => reject(new Error('the gateway closed the connection before the whole answer')));
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        const all = Buffer.concat(chunks);
        const end = all.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = /\r\ncontent-length: (\d+)\r\n/i.exec(all.subarray(0, end + 2).toString('latin1'))?.[1];
        if (length !== undefined && all.length >= end + 4 + Number(length)) resolve(all);
      });
      socket.write(`${head.join('\r\n')}\r\n\r\n${body}`);
    });
    const end = bytes.indexOf('\r\n\r\n');
    const [statusLine = '', ...lines] = bytes.subarray(0, end).toString('latin1').split('\r\n');
    return { statusLine, headers: lines.map((line) => (line.startsWith('Date: ') ? 'Date: <date>' : line)), body: bytes.subarray(end + 4).toString('utf8') };
  } finally {
    socket.destroy();
  }
}

describe('POST /v1/certificates on the wire', () => {
  it('answers 201 with X-Request-Id, Content-Type, Content-Length, Location, Date, Connection and Keep-Alive, in that order', async () => {
    const body = JSON.stringify({ commonName: 'wire.bookstore.cluster.local' });
    const answer = await rawPost(body, { Authorization: `Bearer ${TOKENS.bookstore}`, 'X-Request-Id': 'wire-1' });
    expect(answer.statusLine).toBe('HTTP/1.1 201 Created');
    expect(answer.headers).toEqual([
      'X-Request-Id: wire-1',
      'Content-Type: application/json; charset=utf-8',
      `Content-Length: ${Buffer.byteLength(answer.body)}`,
      'Location: /v1/certificates/wire.bookstore.cluster.local',
      'Date: <date>',
      'Connection: keep-alive',
      'Keep-Alive: timeout=65',
    ]);
    expect(JSON.parse(answer.body)).toMatchObject({ commonName: 'wire.bookstore.cluster.local' });
  });

  it('sends a generated X-Request-Id first when the client gave none', async () => {
    const answer = await rawPost(JSON.stringify({ commonName: 'wire-2.bookstore.cluster.local' }), { Authorization: `Bearer ${TOKENS.bookstore}` });
    expect(answer.statusLine).toBe('HTTP/1.1 201 Created');
    expect(answer.headers[0]).toMatch(/^X-Request-Id: [0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it.each([
    ['an unknown token', { Authorization: 'Bearer nobody-has-this-token' }, { commonName: 'wire.bookstore.cluster.local' }, 'HTTP/1.1 401 Unauthorized', 'UNAUTHENTICATED'],
    ['a name outside the token', { Authorization: `Bearer ${TOKENS.bookstore}` }, { commonName: 'wire.other.cluster.local' }, 'HTTP/1.1 403 Forbidden', 'NAME_NOT_ALLOWED'],
    ['a body the contract refuses', { Authorization: `Bearer ${TOKENS.bookstore}` }, { commonName: 'wire.bookstore.cluster.local', colour: 'blue' }, 'HTTP/1.1 400 Bad Request', 'INVALID_BODY'],
  ])('answers %s with a problem carrying the request id first', async (_what, headers, body, statusLine, code) => {
    const answer = await rawPost(JSON.stringify(body), { ...headers, 'X-Request-Id': 'wire-refused' });
    expect(answer.statusLine).toBe(statusLine);
    expect(answer.headers.slice(0, 3)).toEqual(['X-Request-Id: wire-refused', 'Content-Type: application/problem+json; charset=utf-8', `Content-Length: ${Buffer.byteLength(answer.body)}`]);
    expect(JSON.parse(answer.body)).toMatchObject({ code });
  });
});
