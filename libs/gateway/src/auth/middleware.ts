// Authentication + per-token rate limiting as express middleware. The principal is attached to
// the request through a WeakMap so handlers get a typed value instead of res.locals' `any`.
import type { IncomingMessage } from 'node:http';
import type { Request, RequestHandler } from 'express';
import { GatewayError } from '../errors.js';
import type { TokenBucketLimiter } from './rate-limit.js';
import { requireScope, type Authenticator, type Principal, type Scope } from './tokens.js';

const principals = new WeakMap<IncomingMessage, Principal>();

export function principalOf(req: Request): Principal {
  const principal = principals.get(req);
  if (principal === undefined) throw new GatewayError('INTERNAL', 'Route is missing its authentication middleware.');
  return principal;
}

/**
 * Authenticates, spends one rate-limit token, and checks `scope` (admin passes every scope);
 * remembers the principal for principalOf. The hot issue route calls this inline.
 */
export function authenticateRequest(authenticator: Authenticator, limiter: TokenBucketLimiter, scope: Scope, req: IncomingMessage): Principal {
  const principal = authenticator.authenticate(req.headers.authorization);
  const decision = limiter.take(principal.name);
  if (!decision.allowed) {
    throw new GatewayError('RATE_LIMITED', `Token "${principal.name}" is over its request rate; retry after ${decision.retryAfterSeconds} s.`, {
      retryAfterSeconds: decision.retryAfterSeconds,
    });
  }
  requireScope(principal, scope);
  principals.set(req, principal);
  return principal;
}

/** authenticateRequest as express middleware. */
export function authorize(authenticator: Authenticator, limiter: TokenBucketLimiter, scope: Scope): RequestHandler {
  return (req, _res, next) => {
    authenticateRequest(authenticator, limiter, scope, req);
    next();
  };
}
