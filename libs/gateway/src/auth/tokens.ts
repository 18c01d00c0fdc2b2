// Bearer-token authentication. Tokens are only ever held as SHA-256 hashes; a presented token
// is hashed and compared with every configured hash in constant time, so neither the token nor
// which entry almost matched leaks through timing.
import { createHash, hash, timingSafeEqual } from 'node:crypto';
import { GatewayError } from '../errors.js';
import { nameMatcher, type NameMatcher } from './name-patterns.js';
import { resolvePolicy, type CallerPolicy, type CallerPolicyInput } from './policy.js';

export type Scope = 'issue' | 'read' | 'admin';
export const SCOPES: readonly Scope[] = ['issue', 'read', 'admin'];

/** One configured token, already hashed (libs/config hashes plain tokens at load). */
export interface TokenGrant {
  /** A label for logs and metrics; never the token. */
  readonly name: string;
  /** Lowercase hex SHA-256 of the token. */
  readonly sha256: string;
  readonly scopes: readonly Scope[];
  /** Issue name patterns (see name-patterns.ts); ignored for admin, which may use any name. */
  readonly names: readonly string[];
  /** What else limits this token (validity, key algorithms and modes, wildcards, rate). */
  readonly policy?: CallerPolicyInput;
}

export type PrincipalKind = 'token' | 'serviceaccount';

export interface Principal {
  /** Token name, or `system:serviceaccount:<ns>:<sa>`: who the audit trail and logs name. */
  readonly name: string;
  readonly kind: PrincipalKind;
  /** `Token "ops"` / `ServiceAccount bookstore/bookstore-v1`, for messages. */
  readonly label: string;
  readonly isAdmin: boolean;
  has(scope: Scope): boolean;
  /** Names this principal may issue / rotate / delete. */
  readonly names: NameMatcher;
  readonly policy: CallerPolicy;
}

export function sha256Hex(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

interface CompiledGrant {
  readonly hash: Buffer;
  readonly principal: Principal;
}

function compileGrant(grant: TokenGrant): CompiledGrant {
  if (!/^[0-9a-f]{64}$/.test(grant.sha256)) {
    throw new Error(`Token "${grant.name}": sha256 must be 64 lowercase hex characters.`);
  }
  const scopes = new Set<Scope>(grant.scopes);
  const isAdmin = scopes.has('admin');
  const principal: Principal = {
    name: grant.name,
    kind: 'token',
    label: `Token "${grant.name}"`,
    policy: resolvePolicy(grant.policy),
    isAdmin,
    has: (scope) => isAdmin || scopes.has(scope),
    names: nameMatcher(isAdmin ? ['*'] : grant.names),
  };
  return { hash: Buffer.from(grant.sha256, 'hex'), principal };
}

const BEARER = /^Bearer[ ]+([\x21-\x7e]{1,4096})[ ]*$/i;

export class Authenticator {
  private readonly grants: readonly CompiledGrant[];

  constructor(grants: readonly TokenGrant[]) {
    this.grants = grants.map(compileGrant);
  }

  /** Throws UNAUTHENTICATED for a missing, malformed or unknown token. */
  authenticate(authorization: string | undefined): Principal {
    const match = authorization === undefined ? null : BEARER.exec(authorization);
    const token = match?.[1];
    if (token === undefined) {
      throw new GatewayError('UNAUTHENTICATED', 'Send a bearer token: "Authorization: Bearer <token>".');
    }
    // One-shot hash: no Hash object per request (this runs on every authenticated request).
    const presented = hash('sha256', token, 'buffer');
    let found: Principal | undefined;
    // No early exit: every hash is compared so the time taken does not depend on the match.
    for (const grant of this.grants) {
      if (timingSafeEqual(presented, grant.hash) && found === undefined) found = grant.principal;
    }
    if (found === undefined) {
      throw new GatewayError('UNAUTHENTICATED', 'The bearer token is not known to this gateway; check the token or ask an admin for one.');
    }
    return found;
  }
}

export function requireScope(principal: Principal, scope: Scope): void {
  if (!principal.has(scope)) {
    throw new GatewayError('FORBIDDEN', `${principal.label} lacks the "${scope}" scope this request needs.`);
  }
}
