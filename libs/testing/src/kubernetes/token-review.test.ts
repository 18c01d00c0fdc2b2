// The emulator's ServiceAccount tokens and TokenReview, read through @kubernetes/client-node as
// the gateway reads them: 201 with status.authenticated, user and the audiences' intersection,
// or authenticated false with an error for other audiences, expiry and deleted accounts.
import { AuthenticationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_SERVER_AUDIENCE, KubernetesEmulator } from './index.js';

let skew = 0;
let emulator: KubernetesEmulator;
let core: CoreV1Api;
let auth: AuthenticationV1Api;

beforeAll(async () => {
  emulator = await KubernetesEmulator.start({ now: () => new Date(Date.now() + skew) });
  core = emulator.kubeConfig().makeApiClient(CoreV1Api);
  auth = emulator.kubeConfig().makeApiClient(AuthenticationV1Api);
  await core.createNamespacedServiceAccount({ namespace: 'bookstore', body: { metadata: { name: 'bookstore-v1' } } });
});
afterAll(async () => emulator.close());

async function mint(audiences: string[], expirationSeconds = 3600): Promise<string> {
  const answer = await core.createNamespacedServiceAccountToken({ namespace: 'bookstore', name: 'bookstore-v1', body: { spec: { audiences, expirationSeconds } } });
  return answer.status?.token ?? '';
}

async function review(token: string, audiences?: string[]) {
  const answer = await auth.createTokenReview({ body: { spec: { token, ...(audiences === undefined ? {} : { audiences }) } } });
  return answer.status;
}

describe('Kubernetes emulator TokenRequest and TokenReview', () => {
  it('authenticates a ServiceAccount token for its audience with the username, groups and the audiences in common', async () => {
    const status = await review(await mint(['fsm-certs', 'vault']), ['fsm-certs', 'other']);
    expect(status?.authenticated).toBe(true);
    expect(status?.user?.username).toBe('system:serviceaccount:bookstore:bookstore-v1');
    expect(status?.user?.groups).toEqual(['system:serviceaccounts', 'system:serviceaccounts:bookstore', 'system:authenticated']);
    expect(status?.audiences).toEqual(['fsm-certs']);
  });

  it("checks a review without audiences against the API server's own audience", async () => {
    expect((await review(await mint([])))?.audiences).toEqual([API_SERVER_AUDIENCE]);
    expect((await review(await mint(['fsm-certs'])))?.authenticated).not.toBe(true);
  });

  it.each([
    ['a token for another audience', async () => review(await mint(['vault']), ['fsm-certs']), 'invalid for the target audiences'],
    ['a token it did not sign', async () => review('a.b.c', ['fsm-certs']), 'invalid bearer token'],
  ])('does not authenticate %s, saying why', async (_what, run, error) => {
    const status = await run();
    expect(status?.authenticated).not.toBe(true);
    expect(status?.error).toContain(error);
  });

  it('does not authenticate an expired token', async () => {
    const token = await mint(['fsm-certs'], 600);
    skew += 601_000;
    try {
      const status = await review(token, ['fsm-certs']);
      expect(status?.authenticated).not.toBe(true);
      expect(status?.error).toContain('expired');
    } finally {
      skew -= 601_000;
    }
  });

  it('refuses a TokenRequest under 10 minutes with 422 and one for an unknown ServiceAccount with 404', async () => {
    await expect(mint(['fsm-certs'], 599)).rejects.toMatchObject({ code: 422 });
    await expect(core.createNamespacedServiceAccountToken({ namespace: 'bookstore', name: 'nobody', body: { spec: { audiences: ['fsm-certs'] } } })).rejects.toMatchObject({ code: 404 });
  });
});
