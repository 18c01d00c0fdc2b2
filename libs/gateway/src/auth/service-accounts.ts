// Kubernetes ServiceAccount tokens as callers (as Istio and SPIRE accept them): the token is
// checked with the TokenReview API for our audience, and the caller may then have exactly its
// own identity, CN <sa>.<ns>.<trustDomain> and spiffe://<trustDomain>/ns/<ns>/sa/<sa>, plus
// whatever names the ServiceAccount policy grants. Answers are cached briefly by the token's
// SHA-256 (never the token), so a workload's requests do not each cost an API call.
import { hash } from 'node:crypto';
import type { Clock } from '@fsm-certs/core';
import type { TokenReviewAnswer, TokenReviewer } from '@fsm-certs/providers';
import { GatewayError } from '../errors.js';
import type { CallerAuthenticator } from './middleware.js';
import { nameMatcher } from './name-patterns.js';
import { DEFAULT_POLICY, resolvePolicy, type CallerPolicy, type CallerPolicyInput } from './policy.js';
import type { Authenticator, Principal, Scope } from './tokens.js';

// The port is the Kubernetes reviewer's own interface: one definition, in @fsm-certs/providers.
export type { TokenReviewAnswer, TokenReviewer };

export interface ServiceAccountAuthOptions {
  readonly audience: string;
  readonly trustDomain: string;
  /** How long an accepted token's identity is reused; 0 = ask every time. */
  readonly cacheTtlMs: number;
  /** Names beyond the caller's own identity (patterns as for tokens). */
  readonly names?: readonly string[];
  /** The policy of every ServiceAccount caller; maxValidity defaults to 24h. */
  readonly policy?: CallerPolicyInput;
}

/** ServiceAccount callers get workload certificates of a day unless their policy says otherwise. */
export const SERVICE_ACCOUNT_DEFAULT_POLICY: CallerPolicy = { ...DEFAULT_POLICY, maxValidityMs: 24 * 3600 * 1000 };
const SCOPES: ReadonlySet<Scope> = new Set<Scope>(['issue', 'read']);
const USERNAME = /^system:serviceaccount:([a-z0-9]([-a-z0-9]*[a-z0-9])?):([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/;
const MAX_CACHED = 10_000;

/** The principal of ServiceAccount <namespace>/<name>. */
export function serviceAccountPrincipal(namespace: string, name: string, options: ServiceAccountAuthOptions): Principal {
  const identity = `${name}.${namespace}.${options.trustDomain}`;
  return {
    name: `system:serviceaccount:${namespace}:${name}`,
    kind: 'serviceaccount',
    label: `ServiceAccount ${namespace}/${name}`,
    isAdmin: false,
    has: (scope) => SCOPES.has(scope),
    names: nameMatcher([identity, ...(options.names ?? [])]),
    policy: resolvePolicy(options.policy, SERVICE_ACCOUNT_DEFAULT_POLICY),
  };
}

export class ServiceAccountAuthenticator {
  private readonly cache = new Map<string, { principal: Principal; until: number }>();

  constructor(
    private readonly reviewer: TokenReviewer,
    private readonly options: ServiceAccountAuthOptions,
    private readonly clock: Clock,
  ) {}

  async authenticate(token: string): Promise<Principal> {
    const key = hash('sha256', token, 'hex');
    const now = this.clock.now();
    const cached = this.cache.get(key);
    if (cached !== undefined && cached.until > now) return cached.principal;
    let answer: TokenReviewAnswer;
    try {
      answer = await this.reviewer.review(token, [this.options.audience]);
    } catch (error) {
      throw new GatewayError('BACKEND_UNAVAILABLE', 'Kubernetes could not be asked about this ServiceAccount token (TokenReview failed); retry shortly.', {
        cause: error,
        retryAfterSeconds: 2,
      });
    }
    // An audience-aware API server names the audience it checked; without it the token was
    // only checked against the API server's own audience, which is not ours.
    if (!answer.authenticated || !answer.audiences.includes(this.options.audience)) {
      throw new GatewayError('UNAUTHENTICATED', `Kubernetes did not accept this token for audience "${this.options.audience}"${answer.error === undefined ? '' : ` (${answer.error})`}; mount a projected ServiceAccount token with that audience.`);
    }
    const match = USERNAME.exec(answer.username ?? '');
    const [, namespace, , name] = match ?? [];
    if (namespace === undefined || name === undefined) {
      throw new GatewayError('UNAUTHENTICATED', 'Only ServiceAccount tokens are accepted from Kubernetes; this token belongs to another kind of user.');
    }
    const principal = serviceAccountPrincipal(namespace, name, this.options);
    if (this.options.cacheTtlMs > 0) {
      if (this.cache.size >= MAX_CACHED) {
        const oldest = this.cache.keys().next();
        if (oldest.done !== true) this.cache.delete(oldest.value);
      }
      this.cache.set(key, { principal, until: now + this.options.cacheTtlMs });
    }
    return principal;
  }
}

const BEARER = /^Bearer[ ]+([\x21-\x7e]{1,8192})[ ]*$/i;
/** A JWT's three base64url parts: what a projected ServiceAccount token looks like. */
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** Configured bearer tokens first; an unknown token shaped like a JWT goes to TokenReview. */
export class CallerAuthenticatorChain implements CallerAuthenticator {
  constructor(
    private readonly tokens: Authenticator,
    private readonly serviceAccounts: ServiceAccountAuthenticator | undefined,
  ) {}

  async authenticate(authorization: string | undefined): Promise<Principal> {
    try {
      return this.tokens.authenticate(authorization);
    } catch (error) {
      const token = authorization === undefined ? undefined : BEARER.exec(authorization)?.[1];
      if (this.serviceAccounts === undefined || token === undefined || !JWT.test(token)) throw error;
      return this.serviceAccounts.authenticate(token);
    }
  }
}
