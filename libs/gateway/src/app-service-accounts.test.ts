// Workloads authenticating with their own Kubernetes ServiceAccount token (TokenReview): they get
// exactly their own identity; other names, other audiences and expired tokens are refused. Runs
// against a real cluster when KUBECONFIG is set, else against the Kubernetes emulator.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubernetesTokenReviewer } from '@fsm-certs/providers';
import { CallerAuthenticatorChain, ServiceAccountAuthenticator, type TokenReviewer } from './auth/service-accounts.js';
import { Authenticator } from './auth/tokens.js';
import { GRANTS, RecordingLogger, TOKENS, harnessPerTest, problemOf, type Harness } from './testing/harness.test-helpers.js';
import { kubernetesTarget, uniqueName, type KubernetesTarget } from './testing/kubernetes-target.test-helpers.js';

const ctx = harnessPerTest();
let target: KubernetesTarget;
let sa: string;
let other: string;

beforeAll(async () => {
  target = await kubernetesTarget();
  console.info(`ServiceAccount suite target: ${target.label}`);
  sa = uniqueName('bookstore-v1');
  other = uniqueName('reviews');
  await target.createServiceAccount(sa);
  await target.createServiceAccount(other);
}, 60_000);

afterAll(async () => {
  await target.deleteServiceAccount(sa).catch(() => undefined);
  await target.deleteServiceAccount(other).catch(() => undefined);
  await target.close();
});

/** Counts the TokenReviews sent, to see the cache at work. */
class CountingReviewer implements TokenReviewer {
  calls = 0;
  constructor(private readonly inner: TokenReviewer) {}
  review(token: string, audiences: readonly string[]): ReturnType<TokenReviewer['review']> {
    this.calls++;
    return this.inner.review(token, audiences);
  }
}

async function gatewayWithServiceAccounts(logger?: RecordingLogger): Promise<{ h: Harness; reviewer: CountingReviewer }> {
  const reviewer = new CountingReviewer(new KubernetesTokenReviewer(target.kubeConfig));
  const authenticator = new CallerAuthenticatorChain(
    new Authenticator(GRANTS),
    new ServiceAccountAuthenticator(reviewer, { audience: 'fsm-certs', trustDomain: 'cluster.local', cacheTtlMs: 30_000 }, ctx.h.clock),
  );
  const h = await ctx.restart({ authenticator, ...(logger === undefined ? {} : { logger }) });
  return { h, reviewer };
}

const own = (): string => `${sa}.${target.namespace}.cluster.local`;

describe('ServiceAccount token authentication', () => {
  it('issues a workload its own identity: CN <sa>.<ns>.<trustDomain> and its SPIFFE id, for 24h at most, asking Kubernetes once', async () => {
    const { h, reviewer } = await gatewayWithServiceAccounts();
    const token = await target.token(sa, ['fsm-certs']);
    const res = await h.call('POST', '/v1/certificates', { token, body: { commonName: own(), spiffe: true } });
    expect(res.status).toBe(201);
    const cert = (await res.json()) as { certificate: string; notBefore: string; notAfter: string };
    const text = execFileSync('openssl', ['x509', '-noout', '-subject', '-ext', 'subjectAltName'], { input: cert.certificate, encoding: 'utf8' });
    expect(text).toContain(`CN = ${own()}`);
    expect(text).toContain(`URI:spiffe://cluster.local/ns/${target.namespace}/sa/${sa}`);
    expect(Date.parse(cert.notAfter) - Date.parse(cert.notBefore)).toBeLessThanOrEqual(24 * 3600_000 + 120_000);

    const longer = await h.call('POST', '/v1/certificates', { token, body: { commonName: own(), validity: '48h' } });
    expect(longer.status).toBe(403);
    expect((await problemOf(longer)).code).toBe('POLICY_DENIED');
    expect(reviewer.calls).toBe(1);
  });

  it.each([
    ['a name in another namespace', () => ({ commonName: `${sa}.payments.cluster.local` })],
    ['another ServiceAccount of its own namespace', () => ({ commonName: `${other}.${target.namespace}.cluster.local` })],
    ['the SPIFFE id of another namespace', () => ({ commonName: own(), spiffe: { namespace: 'payments', serviceAccount: sa } })],
    ['an extra DNS name', () => ({ commonName: own(), sans: [`x.${target.namespace}.cluster.local`] })],
  ])('refuses %s with 403, issuing nothing', async (_what, body) => {
    const { h } = await gatewayWithServiceAccounts();
    const res = await h.call('POST', '/v1/certificates', { token: await target.token(sa, ['fsm-certs']), body: body() });
    expect(res.status).toBe(403);
    expect((await problemOf(res)).code).toBe('NAME_NOT_ALLOWED');
    expect(h.issueClient.batches).toEqual([]);
  });

  it.each([
    ['minted for another audience', ['vault']],
    ["minted for the API server's own audience", [] as string[]],
  ])('refuses a token %s with 401', async (_what, audiences) => {
    const { h } = await gatewayWithServiceAccounts();
    const res = await h.call('POST', '/v1/certificates', { token: await target.token(sa, audiences), body: { commonName: own() } });
    expect(res.status).toBe(401);
    expect((await problemOf(res)).code).toBe('UNAUTHENTICATED');
    expect(h.issueClient.batches).toEqual([]);
  });

  it('refuses an expired token with 401 (emulator: its clock moves past the expiry; a real cluster cannot be made to)', async (test) => {
    if (target.advanceClock === undefined) test.skip();
    const { h } = await gatewayWithServiceAccounts();
    const token = await target.token(sa, ['fsm-certs'], 600);
    target.advanceClock?.(601_000);
    try {
      const res = await h.call('POST', '/v1/certificates', { token, body: { commonName: own() } });
      expect(res.status).toBe(401);
      expect((await problemOf(res)).detail).toContain('expired');
    } finally {
      target.advanceClock?.(-601_000);
    }
  });

  it('refuses the token of a deleted ServiceAccount with 401', async () => {
    const gone = uniqueName('gone');
    await target.createServiceAccount(gone);
    const token = await target.token(gone, ['fsm-certs']);
    await target.deleteServiceAccount(gone);
    const { h } = await gatewayWithServiceAccounts();
    const res = await h.call('POST', '/v1/certificates', { token, body: { commonName: `${gone}.${target.namespace}.cluster.local` } });
    expect(res.status).toBe(401);
  });

  it('never logs the token, and bearer tokens keep working beside it', async () => {
    const logger = new RecordingLogger();
    const { h } = await gatewayWithServiceAccounts(logger);
    const token = await target.token(sa, ['vault']);
    expect((await h.call('POST', '/v1/certificates', { token, body: { commonName: own() } })).status).toBe(401);
    expect(JSON.stringify(logger.entries)).not.toContain(token);
    expect((await h.call('POST', '/v1/certificates', { token: TOKENS.bookstore, body: { commonName: 'bookstore-v2.bookstore.cluster.local' } })).status).toBe(201);
  });
});
