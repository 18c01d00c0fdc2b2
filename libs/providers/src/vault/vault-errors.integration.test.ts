// How Vault's refusals reach the gateway's caller, against a real Vault-API server: every refusal
// has a stable code and the HTTP status docs/http-api.md documents, and a message without
// doubled periods that says what to do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerFailure } from '../provider-error.test-helpers.js';
import type { IssueRequest } from '../provider.js';
import { issueRequest, startVaultSuite } from './vault-target.test-helpers.js';
import type { VaultSuite } from './vault-target.test-helpers.js';

const suite: VaultSuite = await startVaultSuite({ suite: 'vault errors' });

describe(`Vault refusals as codes and statuses, against ${suite.target.description}`, () => {
  beforeAll(async () => {
    await suite.bootstrap({
      role: { name: 'narrow', allowAnyName: false, allowedDomains: ['mesh.local'], allowBareDomains: false, allowedUriSans: ['spiffe://cluster.local/ns/mesh/*'] },
    });
    await suite.admin.call('POST', `${suite.mount}/roles/no-ip`, { allow_any_name: true, allow_ip_sans: false, key_type: 'ec', max_ttl: '24h' });
  });
  afterAll(() => suite.close());

  it.each<{ what: string; request: IssueRequest }>([
    { what: 'a common name', request: issueRequest('evil.example') },
    { what: 'a DNS SAN', request: issueRequest('ok.mesh.local', { dnsNames: ['evil.example'] }) },
    { what: 'a URI SAN', request: issueRequest('ok.mesh.local', { uris: ['spiffe://evil.example/ns/x/sa/y'] }) },
  ])('answers 403 NAME_NOT_ALLOWED for $what outside the role', async ({ request }) => {
    const provider = await suite.start({ role: 'narrow' });
    const error = await providerFailure(provider.issue(request));
    expect(error).toMatchObject({ code: 'NAME_NOT_ALLOWED', httpStatus: 403, retryable: false });
    expect(error.message).not.toContain('..');
  });

  it('answers 403 NAME_NOT_ALLOWED for an IP SAN on a role without IP SANs', async () => {
    const provider = await suite.start({ role: 'no-ip' });
    const error = await providerFailure(provider.issue(issueRequest('ok.example', { ipAddresses: ['10.0.0.1'] })));
    expect(error).toMatchObject({ code: 'NAME_NOT_ALLOWED', httpStatus: 403 });
  });

  it('answers 502 CONFIGURATION_INVALID naming vault.role when the role does not exist', async () => {
    const provider = await suite.start({ role: 'no-such-role' });
    const error = await providerFailure(provider.issue(issueRequest('ok.example')));
    expect(error).toMatchObject({ code: 'CONFIGURATION_INVALID', httpStatus: 502, retryable: false });
    expect(error.message).toContain('vault.role');
    expect(error.message).not.toContain('..');
  });

  it('answers 502 CONFIGURATION_INVALID naming the mount path when the PKI mount is gone', async () => {
    const provider = await suite.start();
    await suite.admin.call('DELETE', `sys/mounts/${suite.mount}`);
    try {
      const error = await providerFailure(provider.issue(issueRequest('ok.example')));
      expect(error).toMatchObject({ code: 'CONFIGURATION_INVALID', httpStatus: 502, retryable: false });
      expect(error.message).toContain('vault.mountPath');
      // Vault's own text ends in a period ("route entry not found."); ours must not double it.
      expect(error.message).not.toContain('..');
    } finally {
      await suite.bootstrap();
    }
  });

  it('answers 502 BACKEND_AUTH_FAILED when Vault refuses the token, naming what to fix and never the token', async () => {
    const token = await suite.admin.createToken({ policies: ['root'] });
    const provider = await suite.start({ token });
    await suite.admin.revokeToken(token);
    const error = await providerFailure(provider.issue(issueRequest('ok.example')));
    expect(error).toMatchObject({ code: 'BACKEND_AUTH_FAILED', httpStatus: 502, retryable: false });
    expect(error.message).toMatch(/VAULT_TOKEN/);
    expect(error.message).not.toContain(token);
    expect(error.message).not.toContain('..');
  });
});
