// core/v1 ServiceAccounts, their TokenRequest subresource (POST .../serviceaccounts/<name>/token,
// what `kubectl create token` and projected volumes use) and the TokenReview API
// (POST /apis/authentication.k8s.io/v1/tokenreviews), as the API server answers them:
// - tokens are JWTs naming the ServiceAccount (sub system:serviceaccount:<ns>:<name>, its uid),
//   with `aud` and `exp`; expirationSeconds defaults to 3600 and must be at least 600;
// - a review is always 201 with the TokenReview echoed and a `status`: authenticated with
//   `user` (username, uid, groups, extra) and `audiences` (the intersection of the review's
//   and the token's), or `authenticated: false` with an `error` string for an expired token,
//   a token for other audiences, a token of a deleted ServiceAccount or one it did not sign.
//   An empty spec.audiences means the API server's own audience.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ObjectStore } from './object-store.js';
import { KubeApiError, invalid, notFound } from './status.js';
import type { KubeObject, ResourceDefinition } from './types.js';
import { validateObjectName } from './validation.js';

/** The audience of the API server itself (kube-apiserver's default --api-audiences). */
export const API_SERVER_AUDIENCE = 'https://kubernetes.default.svc.cluster.local';
const ISSUER = API_SERVER_AUDIENCE;

export const SERVICE_ACCOUNT_RESOURCE: ResourceDefinition = {
  group: '',
  version: 'v1',
  kind: 'ServiceAccount',
  plural: 'serviceaccounts',
  namespaced: true,
  validate: (object) => validateObjectName(object.metadata.name),
};

interface Claims {
  readonly aud: string[];
  readonly exp: number;
  readonly iat: number;
  readonly iss: string;
  readonly sub: string;
  readonly 'kubernetes.io': { readonly namespace: string; readonly serviceaccount: { readonly name: string; readonly uid: string } };
}

export interface TokenReviewStatus {
  readonly authenticated?: boolean;
  readonly user?: { readonly username: string; readonly uid: string; readonly groups: string[]; readonly extra?: Record<string, string[]> };
  readonly audiences?: string[];
  readonly error?: string;
}

const b64url = (value: Buffer | string): string => Buffer.from(value).toString('base64url');

function stringArray(value: unknown, field: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new KubeApiError('BadRequest', `${field} must be an array of strings`);
  return value as string[];
}

export class ServiceAccountTokens {
  private readonly key = randomBytes(32);

  constructor(
    private readonly store: ObjectStore,
    private readonly now: () => Date,
  ) {}

  /** POST .../namespaces/<ns>/serviceaccounts/<name>/token: a TokenRequest answered with its token. */
  request(namespace: string, name: string, body: unknown): Record<string, unknown> {
    const spec = (body !== null && typeof body === 'object' ? (body as { spec?: unknown }).spec : undefined) ?? {};
    if (typeof spec !== 'object' || spec === null) throw new KubeApiError('BadRequest', 'spec must be an object');
    const given = spec as { audiences?: unknown; expirationSeconds?: unknown };
    const expirationSeconds = given.expirationSeconds === undefined ? 3600 : Number(given.expirationSeconds);
    if (!Number.isInteger(expirationSeconds) || expirationSeconds < 600) {
      throw invalid('TokenRequest', 'authentication.k8s.io', name, [
        { reason: 'FieldValueInvalid', field: 'spec.expirationSeconds', message: `Invalid value: ${String(given.expirationSeconds)}: may not specify a duration less than 10 minutes` },
      ]);
    }
    const serviceAccount = this.serviceAccount(namespace, name);
    if (serviceAccount === undefined) throw notFound('serviceaccounts', '', name);
    const audiences = stringArray(given.audiences, 'spec.audiences');
    const iat = Math.floor(this.now().getTime() / 1000);
    const claims: Claims = {
      aud: audiences.length === 0 ? [API_SERVER_AUDIENCE] : audiences,
      exp: iat + expirationSeconds,
      iat,
      iss: ISSUER,
      sub: `system:serviceaccount:${namespace}:${name}`,
      'kubernetes.io': { namespace, serviceaccount: { name, uid: serviceAccount.metadata.uid ?? '' } },
    };
    return {
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { name, namespace, creationTimestamp: null },
      spec: { audiences: claims.aud, expirationSeconds, boundObjectRef: null },
      status: { token: this.sign(claims), expirationTimestamp: new Date(claims.exp * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') },
    };
  }

  /** POST /apis/authentication.k8s.io/v1/tokenreviews. */
  review(body: unknown): Record<string, unknown> {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new KubeApiError('BadRequest', 'the body of the request must be a JSON object');
    const spec = (body as { spec?: unknown }).spec;
    const given = spec !== null && typeof spec === 'object' ? (spec as { token?: unknown; audiences?: unknown }) : {};
    const token = typeof given.token === 'string' ? given.token : '';
    const audiences = stringArray(given.audiences, 'spec.audiences');
    return {
      kind: 'TokenReview',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec: { token, ...(audiences.length === 0 ? {} : { audiences }) },
      status: this.check(token, audiences.length === 0 ? [API_SERVER_AUDIENCE] : audiences),
    };
  }

  private check(token: string, wanted: string[]): TokenReviewStatus {
    const claims = this.verify(token);
    if (claims === undefined) return { error: '[invalid bearer token, square/go-jose: error in cryptographic primitive]' };
    const now = Math.floor(this.now().getTime() / 1000);
    if (claims.exp <= now) return { error: '[invalid bearer token, service account token has expired]' };
    const audiences = wanted.filter((a) => claims.aud.includes(a));
    if (audiences.length === 0) {
      return { error: `[invalid bearer token, token audiences ${JSON.stringify(claims.aud)} is invalid for the target audiences ${JSON.stringify(wanted)}]` };
    }
    const { namespace, serviceaccount } = claims['kubernetes.io'];
    const current = this.serviceAccount(namespace, serviceaccount.name);
    if (current === undefined || current.metadata.uid !== serviceaccount.uid) {
      return { error: `[invalid bearer token, service account ${namespace}/${serviceaccount.name} has been deleted]` };
    }
    return {
      authenticated: true,
      user: {
        username: claims.sub,
        uid: serviceaccount.uid,
        groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
        extra: { 'authentication.kubernetes.io/credential-id': [`JTI=${createHmac('sha256', this.key).update(token).digest('hex').slice(0, 36)}`] },
      },
      audiences,
    };
  }

  private serviceAccount(namespace: string, name: string): KubeObject | undefined {
    try {
      return this.store.get(SERVICE_ACCOUNT_RESOURCE, namespace, name);
    } catch (error) {
      if (error instanceof KubeApiError && error.code === 404) return undefined;
      throw error;
    }
  }

  private sign(claims: Claims): string {
    const input = `${b64url(JSON.stringify({ alg: 'HS256', kid: 'fsm-certs-emulator' }))}.${b64url(JSON.stringify(claims))}`;
    return `${input}.${b64url(createHmac('sha256', this.key).update(input).digest())}`;
  }

  private verify(token: string): Claims | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const [header = '', payload = '', signature = ''] = parts;
    const expected = createHmac('sha256', this.key).update(`${header}.${payload}`).digest();
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Claims;
    } catch {
      return undefined;
    }
  }
}
