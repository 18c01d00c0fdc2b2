// The one error middleware: maps every thrown value to application/problem+json
// {type, title, status, detail, code}. Unknown errors become a generic 500 whose detail says
// nothing about internals; the real error goes to the log.
import type { ServerResponse } from 'node:http';
import type { ErrorRequestHandler } from 'express';
import { PROBLEM_CONTENT_TYPE, problemTypeUri } from '@fsm-certs/runtime';
import { GatewayError, isGatewayError } from '../errors.js';

export { PROBLEM_CONTENT_TYPE };

export interface ProblemBody {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: string;
}

export function problemType(code: string): string {
  return problemTypeUri(code);
}

export function toProblem(error: GatewayError): ProblemBody {
  return {
    type: problemType(error.publicCode),
    title: error.title,
    status: error.httpStatus,
    detail: error.message,
    code: error.publicCode,
  };
}

/** Writes the problem+json answer (plain node response, so the fast lane can use it too). */
export function sendProblem(res: ServerResponse, error: GatewayError): void {
  const payload = JSON.stringify(toProblem(error));
  const headers: Record<string, string | number> = {
    'Content-Type': `${PROBLEM_CONTENT_TYPE}; charset=utf-8`,
    'Content-Length': Buffer.byteLength(payload),
  };
  if (error.retryAfterSeconds !== undefined) headers['Retry-After'] = String(Math.max(1, Math.ceil(error.retryAfterSeconds)));
  res.writeHead(error.httpStatus, headers);
  res.end(payload);
}

interface BodyParserError {
  readonly type: string;
  readonly status?: number;
}

function isBodyParserError(value: unknown): value is BodyParserError {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string' && 'expose' in value;
}

/** Redis down as seen through ioredis / libs/queue: the caller should retry, not report a bug. */
export function isBackendDown(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if ((error as { code?: unknown }).code === 'REDIS_UNAVAILABLE') return true;
  if (error.name === 'MaxRetriesPerRequestError') return true;
  return /Connection is closed|ECONNREFUSED|ECONNRESET|Stream isn't writeable|enableOfflineQueue/.test(error.message);
}

/** Translates body-parser's errors (which carry a `type` and `status`) into ours. */
export function normaliseError(error: unknown): GatewayError {
  if (isGatewayError(error)) return error;
  if (isBodyParserError(error)) {
    switch (error.type) {
      case 'entity.too.large':
        return new GatewayError('BODY_TOO_LARGE', 'The request body exceeds the configured limit; send a smaller body.', { cause: error });
      case 'entity.parse.failed':
        return new GatewayError('INVALID_BODY', 'The request body is not valid JSON.', { cause: error });
      case 'encoding.unsupported':
      case 'charset.unsupported':
        return new GatewayError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as UTF-8 application/json.', { cause: error });
      default:
        return new GatewayError('INVALID_BODY', 'The request body could not be read.', { cause: error });
    }
  }
  if (isBackendDown(error)) {
    return new GatewayError('BACKEND_UNAVAILABLE', 'Redis is unreachable; retry after the indicated delay.', { cause: error, retryAfterSeconds: 2 });
  }
  return new GatewayError('INTERNAL', 'The gateway failed unexpectedly; the error was logged. Retry, and report it if it persists.', {
    cause: error,
  });
}

export type ErrorLogger = (error: GatewayError, context: { method: string; path: string }) => void;

export function problemMiddleware(log: ErrorLogger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    const problem = normaliseError(error);
    log(problem, { method: req.method, path: req.path });
    if (res.headersSent) {
      next(error);
      return;
    }
    sendProblem(res, problem);
  };
}
