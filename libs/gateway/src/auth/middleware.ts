// Authentication, rate limits and scope as express middleware. The principal is attached to the
// request through a WeakMap so handlers get a typed value instead of res.locals' `any`.
import type { IncomingMessage } from 'node:http';
import type { Request, RequestHandler } from 'express';
import { GatewayError } from '../errors.js';
import type { RateLimiter, TokenBucketLimiter } from './rate-limit.js';
import { requireScope, type Principal, type Scope } from './tokens.js';

const principals = new WeakMap<IncomingMessage, Principal>();

export function principalOf(req: Request): Principal {
  const principal = principals.get(req);
  if (principal === undefined) throw new GatewayError('INTERNAL', 'Route is missing its authentication middleware.');
  return principal;
}

/** The principal of a request that was authenticated, if any (for the audit trail of refusals). */
export function knownPrincipal(req: IncomingMessage): Principal | undefined {
  return principals.get(req);
}

/** Finds who presented the Authorization header; throws UNAUTHENTICATED. */
export interface CallerAuthenticator {
  authenticate(authorization: string | undefined): Principal | Promise<Principal>;
}

export interface AccessControlOptions {
  readonly authenticator: CallerAuthenticator;
  /** Per-caller request rate, shared across replicas in production. */
  readonly limiter: RateLimiter;
  /** The rate of callers whose policy names none. */
  readonly defaultRatePerSec: number;
  /** Failed authentications per client address. */
  readonly failures: TokenBucketLimiter;
}

/** The address a request came from (the socket's peer; proxies in front are not trusted). */
export function clientAddress(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown';
}

export class AccessControl {
  constructor(private readonly options: AccessControlOptions) {}

  /**
   * Authenticates, spends one request of the caller's rate, and checks `scope` (admin passes
   * every scope); remembers the principal for principalOf. An address whose failed
   * authentications ran out of budget is refused before its token is even looked at, so it
   * cannot go on guessing.
   */
  async authorize(req: IncomingMessage, scope: Scope): Promise<Principal> {
    const address = clientAddress(req);
    const { failures } = this.options;
    const blocked = failures.peek(address);
    if (!blocked.allowed) throw tooManyFailures(blocked.retryAfterSeconds);
    let principal: Principal;
    try {
      principal = await this.options.authenticator.authenticate(req.headers.authorization);
    } catch (error) {
      if (error instanceof GatewayError && error.code === 'UNAUTHENTICATED') {
        const spent = failures.take(address);
        if (!spent.allowed) throw tooManyFailures(spent.retryAfterSeconds);
      }
      throw error;
    }
    principals.set(req, principal);
    const rate = principal.policy.ratePerSec ?? this.options.defaultRatePerSec;
    const decision = await this.options.limiter.take(`${principal.kind}:${principal.name}`, rate);
    if (!decision.allowed) {
      throw new GatewayError('RATE_LIMITED', `${principal.label} is over its request rate (policy rule "rate", ${rate}/s); retry after ${decision.retryAfterSeconds} s.`, {
        retryAfterSeconds: decision.retryAfterSeconds,
      });
    }
    requireScope(principal, scope);
    return principal;
  }

  /** authorize() as express middleware. */
  middleware(scope: Scope): RequestHandler {
    return async (req, _res, next) => {
      await this.authorize(req, scope);
      next();
    };
  }
}

function tooManyFailures(retryAfterSeconds: number): GatewayError {
  return new GatewayError('RATE_LIMITED', `Too many failed authentications from this address; retry after ${retryAfterSeconds} s with a valid token.`, {
    retryAfterSeconds,
  });
}
