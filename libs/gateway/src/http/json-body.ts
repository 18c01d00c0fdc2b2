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

/** Collects the chunks of one body; its listeners are methods so no closures are made per request. */
class BodyCollector {
  private readonly chunks: Buffer[] = [];
  private received = 0;
  private settled = false;

  constructor(
    private readonly req: IncomingMessage,
    private readonly limitBytes: number,
    private readonly resolve: (body: unknown) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    this.onData = this.onData.bind(this);
    this.onEnd = this.onEnd.bind(this);
    this.onError = this.onError.bind(this);
    this.onAborted = this.onAborted.bind(this);
    req.on('data', this.onData);
    req.on('end', this.onEnd);
    req.on('error', this.onError);
    req.on('aborted', this.onAborted);
  }

  onData(chunk: Buffer): void {
    this.received += chunk.length;
    if (this.received > this.limitBytes) this.fail(tooLarge());
    else this.chunks.push(chunk);
  }

  onEnd(): void {
    if (this.settled) return;
    this.detach();
    const buffer = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.received);
    try {
      this.resolve(parseStrict(buffer === undefined ? '' : buffer.toString('utf8')));
    } catch (error) {
      this.reject(error);
    }
  }

  onError(error: Error): void {
    this.fail(new GatewayError('INVALID_BODY', 'The request body could not be read.', { cause: error }));
  }

  onAborted(): void {
    this.fail(new GatewayError('INVALID_BODY', 'The client aborted the request body.'));
  }

  private fail(error: GatewayError): void {
    if (this.settled) return;
    this.detach();
    // Let node discard the rest of the body; the connection stays usable for the next request.
    this.req.resume();
    this.reject(error);
  }

  private detach(): void {
    this.settled = true;
    this.req.off('data', this.onData);
    this.req.off('end', this.onEnd);
    this.req.off('error', this.onError);
    this.req.off('aborted', this.onAborted);
  }
}

/** Reads and parses a plain JSON body (see isPlainJsonRequest); undefined when there is none. */
export function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  if (!hasBody(req)) return Promise.resolve(undefined);
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limitBytes) {
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise<unknown>((resolve, reject) => void new BodyCollector(req, limitBytes, resolve, reject));
}
