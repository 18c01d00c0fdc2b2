// Authentication, rate limits and scope as express middleware. The principal is attached to the
// request through a WeakMap so handlers get a typed value instead of res.locals' `any`.
import type { IncomingMessage } from 'node:http';
import type { Request, RequestHandler } from 'express';
import { GatewayError } from '../errors.js';
import type { RateLimitDecision, RateLimiter, TokenBucketLimiter } from './rate-limit.js';
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
   * cannot go on guessing. Answers at once (returns or throws) when neither the authenticator
   * nor the rate limiter has to wait for a round trip, which is the case for nearly every
   * request; otherwise returns a promise. Callers await it either way.
   */
  authorize(req: IncomingMessage, scope: Scope): Principal | Promise<Principal> {
    const address = clientAddress(req);
    const { failures } = this.options;
    const blocked = failures.peek(address);
    if (!blocked.allowed) throw tooManyFailures(blocked.retryAfterSeconds);
    let authenticated: Principal | Promise<Principal>;
    try {
      authenticated = this.options.authenticator.authenticate(req.headers.authorization);
    } catch (error) {
      throw this.failed(address, error);
    }
    if (authenticated instanceof Promise) {
      return authenticated.then(
        (principal) => this.admit(req, principal, scope),
        (error: unknown) => {
          throw this.failed(address, error);
        },
      );
    }
    return this.admit(req, authenticated, scope);
  }

  /** The error to throw for a failed authentication, after spending the address's failure budget. */
  private failed(address: string, error: unknown): unknown {
    if (error instanceof GatewayError && error.code === 'UNAUTHENTICATED') {
      const spent = this.options.failures.take(address);
      if (!spent.allowed) return tooManyFailures(spent.retryAfterSeconds);
    }
    return error;
  }

  /** The authenticated caller: remembered, its rate spent, its scope checked. */
  private admit(req: IncomingMessage, principal: Principal, scope: Scope): Principal | Promise<Principal> {
    principals.set(req, principal);
    const rate = principal.policy.ratePerSec ?? this.options.defaultRatePerSec;
    const decision = this.options.limiter.take(`${principal.kind}:${principal.name}`, rate);
    if (decision instanceof Promise) return decision.then((d) => admitted(principal, scope, rate, d));
    return admitted(principal, scope, rate, decision);
  }

  /** authorize() as express middleware. */
  middleware(scope: Scope): RequestHandler {
    return async (req, _res, next) => {
      await this.authorize(req, scope);
      next();
    };
  }
}

/** The principal, unless its rate is spent or it lacks the scope. */
function admitted(principal: Principal, scope: Scope, rate: number, decision: RateLimitDecision): Principal {
  if (!decision.allowed) {
    throw new GatewayError('RATE_LIMITED', `${principal.label} is over its request rate (policy rule "rate", ${rate}/s); retry after ${decision.retryAfterSeconds} s.`, {
      retryAfterSeconds: decision.retryAfterSeconds,
    });
  }
  requireScope(principal, scope);
  return principal;
}

function tooManyFailures(retryAfterSeconds: number): GatewayError {
  return new GatewayError('RATE_LIMITED', `Too many failed authentications from this address; retry after ${retryAfterSeconds} s with a valid token.`, {
    retryAfterSeconds,
  });
}
