// A lean JSON body reader for the hot POST /v1/certificates route. express.json() (body-parser +
// raw-body + iconv + on-finished + async_hooks binding) costs more CPU than the rest of the
// request's own work; for the common case (identity encoding, UTF-8 application/json) this
// reads the bytes and parses them with the same outcomes: 413 over the limit, 400 for broken or
// non-object/array JSON (body-parser's strict mode), an empty body read as {} and no body as
// undefined. Anything unusual (compressed bodies, other charsets, other media types) is left to
// express.json() by the caller, so behaviour there stays exactly body-parser's.
import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../errors.js';

const UNITS: Readonly<Record<string, number>> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** '64kb' -> 65536 with the `bytes` package's 1024 multiples; undefined when not of that form. */
export function parseByteLimit(limit: string): number | undefined {
  const match = /^(\d+)\s*(b|kb|mb|gb)?$/i.exec(limit.trim());
  if (match === null) return undefined;
  const unit = UNITS[(match[2] ?? 'b').toLowerCase()];
  return unit === undefined ? undefined : Number(match[1]) * unit;
}

// Exactly what body-parser's json() accepts without help: application/json, optionally with a
// UTF-8 charset, and no content-encoding. Other headers take the express.json() path.
const PLAIN_JSON = /^application\/json[ \t]*(;[ \t]*charset[ \t]*=[ \t]*"?utf-8"?[ \t]*)?$/i;

/** True when readJsonBody handles this request the same way express.json() would. */
export function isPlainJsonRequest(req: IncomingMessage): boolean {
  const type = req.headers['content-type'];
  const encoding = req.headers['content-encoding'];
  return type !== undefined && PLAIN_JSON.test(type) && (encoding === undefined || encoding.toLowerCase() === 'identity');
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return length !== undefined ? length !== '0' : req.headers['transfer-encoding'] !== undefined;
}

function tooLarge(): GatewayError {
  return new GatewayError('BODY_TOO_LARGE', 'The request body exceeds the configured limit; send a smaller body.');
}

function invalidJson(cause?: unknown): GatewayError {
  return new GatewayError('INVALID_BODY', 'The request body is not valid JSON.', cause === undefined ? {} : { cause });
}

/** body-parser's strict mode: only an object or an array at the top level. */
function parseStrict(text: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.length === 0) return {};
  const first = /^[\x20\x09\x0a\x0d]*(.)/.exec(body)?.[1];
  if (first !== '{' && first !== '[') throw invalidJson();
  try {
    return JSON.parse(body) as unknown;
  } catch (error) {
    throw invalidJson(error);
  }
}

/** Reads and parses a plain JSON body (see isPlainJsonRequest); undefined when there is none. */
export function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  if (!hasBody(req)) return Promise.resolve(undefined);
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limitBytes) {
    // Let node discard the unread body; the connection stays usable for the next request.
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise<unknown>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    const fail = (error: unknown): void => {
      cleanup();
      req.resume();
      reject(error);
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > limitBytes) fail(tooLarge());
      else chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      const buffer = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received);
      try {
        resolve(parseStrict(buffer === undefined ? '' : buffer.toString('utf8')));
      } catch (error) {
        reject(error);
      }
    };
    const onError = (error: Error): void => fail(new GatewayError('INVALID_BODY', 'The request body could not be read.', { cause: error }));
    const onAborted = (): void => fail(new GatewayError('INVALID_BODY', 'The client aborted the request body.'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}
