// The JSON body reader of the gateway, for express routes and the issue fast lane alike (so both
// answer every body the same way). express.json() (body-parser + raw-body + iconv + on-finished +
// async_hooks binding) costs more CPU than the hot route's own work, and answered a body whose
// Content-Encoding lied (a plain body labelled gzip) with a 500; this one reads UTF-8
// application/json, decodes gzip / deflate / br itself and counts the limit on the DECODED
// bytes (a zip bomb stops at the limit), answers a corrupt stream with 400 and any other
// encoding with 415. Otherwise body-parser's strict outcomes: 413 over the limit, 400 for broken
// or non-object/array JSON, an empty body read as {} and no body as undefined.
import type { IncomingMessage } from 'node:http';
import type { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { GatewayError } from '../errors.js';

const UNITS: Readonly<Record<string, number>> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** '64kb' -> 65536 with the `bytes` package's 1024 multiples; undefined when not of that form. */
export function parseByteLimit(limit: string): number | undefined {
  const match = /^(\d+)\s*(b|kb|mb|gb)?$/i.exec(limit.trim());
  if (match === null) return undefined;
  const unit = UNITS[(match[2] ?? 'b').toLowerCase()];
  return unit === undefined ? undefined : Number(match[1]) * unit;
}

const JSON_TYPE = /^application\/json[ \t]*(?:;|$)/i;
const CHARSET = /;[ \t]*charset[ \t]*=[ \t]*("?)([^";\s]*)\1/i;

/** application/json, with no charset or a UTF-8 one; other parameters are ignored. */
export function isJsonMediaType(contentType: string | undefined): boolean {
  if (contentType === undefined || !JSON_TYPE.test(contentType)) return false;
  const charset = CHARSET.exec(contentType)?.[2];
  return charset === undefined || /^utf-?8$/i.test(charset);
}

type Decoding = 'identity' | 'gzip' | 'deflate' | 'br';
const DECODINGS: Readonly<Record<string, Decoding>> = { '': 'identity', identity: 'identity', gzip: 'gzip', 'x-gzip': 'gzip', deflate: 'deflate', br: 'br' };

function decodingOf(req: IncomingMessage): Decoding {
  const header = (req.headers['content-encoding'] ?? '').trim().toLowerCase();
  const decoding = DECODINGS[header];
  if (decoding === undefined) {
    throw new GatewayError('UNSUPPORTED_MEDIA_TYPE', 'Content-Encoding must be gzip, deflate, br or identity (one of them, not a list).');
  }
  return decoding;
}

function decoder(decoding: Exclude<Decoding, 'identity'>): Transform {
  if (decoding === 'gzip') return createGunzip();
  if (decoding === 'deflate') return createInflate();
  return createBrotliDecompress();
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

/**
 * Collects the chunks of one body, decoded when a decoder is given; its listeners are methods so
 * no closures are made per request. Both the received and the decoded bytes are held to the limit.
 */
class BodyCollector {
  private readonly chunks: Buffer[] = [];
  private received = 0;
  private decoded = 0;
  private settled = false;

  constructor(
    private readonly req: IncomingMessage,
    private readonly limitBytes: number,
    private readonly resolve: (body: unknown) => void,
    private readonly reject: (error: unknown) => void,
    private readonly decoding: Transform | undefined,
  ) {
    this.onData = this.onData.bind(this);
    this.onEnd = this.onEnd.bind(this);
    this.onError = this.onError.bind(this);
    this.onAborted = this.onAborted.bind(this);
    req.on('data', this.onData);
    req.on('end', this.onEnd);
    req.on('error', this.onError);
    req.on('aborted', this.onAborted);
    if (decoding !== undefined) {
      decoding.on('data', (chunk: Buffer) => this.onDecoded(chunk));
      decoding.on('end', () => this.finish());
      decoding.on('error', (error: Error) => this.fail(new GatewayError('INVALID_BODY', 'The request body does not decode with its Content-Encoding; send it compressed as declared, or without Content-Encoding.', { cause: error })));
    }
  }

  onData(chunk: Buffer): void {
    this.received += chunk.length;
    if (this.received > this.limitBytes) this.fail(tooLarge());
    else if (this.decoding !== undefined) this.decoding.write(chunk);
    else this.onDecoded(chunk);
  }

  onEnd(): void {
    if (this.decoding !== undefined) this.decoding.end();
    else this.finish();
  }

  onError(error: Error): void {
    this.fail(new GatewayError('INVALID_BODY', 'The request body could not be read.', { cause: error }));
  }

  onAborted(): void {
    this.fail(new GatewayError('INVALID_BODY', 'The client aborted the request body.'));
  }

  private onDecoded(chunk: Buffer): void {
    if (this.settled) return;
    this.decoded += chunk.length;
    if (this.decoded > this.limitBytes) this.fail(tooLarge());
    else this.chunks.push(chunk);
  }

  private finish(): void {
    if (this.settled) return;
    this.detach();
    const buffer = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.decoded);
    try {
      this.resolve(parseStrict(buffer === undefined ? '' : buffer.toString('utf8')));
    } catch (error) {
      this.reject(error);
    }
  }

  private fail(error: GatewayError): void {
    if (this.settled) return;
    this.detach();
    // Stops inflating at once (a zip bomb costs at most the limit), and lets node discard the
    // rest of the body so the connection stays usable for the next request.
    this.decoding?.destroy();
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

/**
 * Reads and parses a JSON body; undefined when there is none. Throws (rejects) 415 for another
 * media type or encoding, 413 over the limit, 400 for a corrupt stream or broken JSON.
 */
export function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  if (!hasBody(req)) return Promise.resolve(undefined);
  let decoding: Decoding;
  try {
    if (!isJsonMediaType(req.headers['content-type'])) {
      throw new GatewayError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as Content-Type: application/json (UTF-8).');
    }
    decoding = decodingOf(req);
  } catch (error) {
    req.resume();
    return Promise.reject(error);
  }
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limitBytes) {
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise<unknown>(
    (resolve, reject) => void new BodyCollector(req, limitBytes, resolve, reject, decoding === 'identity' ? undefined : decoder(decoding)),
  );
}
