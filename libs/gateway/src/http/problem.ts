// The one error middleware: maps every thrown value to application/problem+json
// {type, title, status, detail, code} (the contract's problemSchema). Unknown errors become a
// generic 500 whose detail says nothing about internals; the real error goes to the log.
import type { ServerResponse } from 'node:http';
import type { ErrorRequestHandler } from 'express';
import { PROBLEM_CONTENT_TYPE, problemType, type Problem } from '@fsm-certs/api';
import { GatewayError, isGatewayError } from '../errors.js';

export { PROBLEM_CONTENT_TYPE, problemType };
export type ProblemBody = Problem;

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
export function sendProblem(res: ServerResponse, error: GatewayError, extra: Readonly<Record<string, unknown>> = {}): void {
  const payload = JSON.stringify({ ...toProblem(error), ...extra });
  const headers: Record<string, string | number> = {
    'Content-Type': `${PROBLEM_CONTENT_TYPE}; charset=utf-8`,
    'Content-Length': Buffer.byteLength(payload),
  };
  if (error.retryAfterSeconds !== undefined) headers['Retry-After'] = String(Math.max(1, Math.ceil(error.retryAfterSeconds)));
  if (error.allow !== undefined) headers['Allow'] = error.allow.join(', ');
  res.writeHead(error.httpStatus, headers);
  res.end(payload);
}

/** Redis down as seen through ioredis / libs/queue: the caller should retry, not report a bug. */
export function isBackendDown(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if ((error as { code?: unknown }).code === 'REDIS_UNAVAILABLE') return true;
  if (error.name === 'MaxRetriesPerRequestError') return true;
  return /Connection is closed|ECONNREFUSED|ECONNRESET|Stream isn't writeable|enableOfflineQueue/.test(error.message);
}

/**
 * express's router decodes path parameters with decodeURIComponent and passes the URIError of a
 * malformed percent-escape (status 400) to the error handler. Only path parameters are decoded
 * that way; a common name is the only one this API has.
 */
function isUndecodablePath(error: unknown): boolean {
  return error instanceof URIError && (error as { status?: unknown }).status === 400;
}

export function normaliseError(error: unknown): GatewayError {
  if (isGatewayError(error)) return error;
  if (isUndecodablePath(error)) {
    return new GatewayError('INVALID_NAME', 'The path has a malformed percent-escape; percent-encode the common name as UTF-8.', { cause: error });
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
