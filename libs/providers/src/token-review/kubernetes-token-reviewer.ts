// Asks the Kubernetes API who a bearer token belongs to (TokenReview, authentication.k8s.io/v1):
// what the issuer-gateway uses to accept workloads' projected ServiceAccount tokens. The token
// is sent to the API server only, never logged, and not kept here. Transport failures and
// non-201 answers throw (the caller answers 503); an unauthenticated token is a normal answer.
import { AuthenticationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { ProviderError } from '../errors.js';

export interface TokenReviewAnswer {
  readonly authenticated: boolean;
  /** e.g. system:serviceaccount:<ns>:<sa>; set when authenticated. */
  readonly username: string | undefined;
  /** The intersection of the asked audiences and the token's (status.audiences). */
  readonly audiences: readonly string[];
  /** Why not authenticated, as the API server says it (never contains the token). */
  readonly error: string | undefined;
}

export interface TokenReviewer {
  review(token: string, audiences: readonly string[]): Promise<TokenReviewAnswer>;
}

/** The RBAC the reviewer needs: create on the cluster-scoped tokenreviews. */
export const TOKEN_REVIEW_PERMISSION = {
  apiGroup: 'authentication.k8s.io',
  resource: 'tokenreviews',
  verb: 'create',
  resourceName: undefined,
  clusterScoped: true,
} as const;

export class KubernetesTokenReviewer implements TokenReviewer {
  private readonly api: AuthenticationV1Api;

  constructor(kubeConfig: KubeConfig) {
    this.api = kubeConfig.makeApiClient(AuthenticationV1Api);
  }

  async review(token: string, audiences: readonly string[]): Promise<TokenReviewAnswer> {
    let status;
    try {
      const answer = await this.api.createTokenReview({
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences: [...audiences] } },
      });
      status = answer.status;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      // The client's error may carry the request; keep only what an operator needs.
      throw new ProviderError('BACKEND_UNAVAILABLE', `The Kubernetes TokenReview API did not answer (${typeof code === 'number' ? `HTTP ${code}` : 'unreachable'}); check the API server and that the gateway may create tokenreviews.`);
    }
    return {
      authenticated: status?.authenticated === true,
      username: status?.user?.username,
      audiences: status?.audiences ?? [],
      error: status?.error,
    };
  }
}
