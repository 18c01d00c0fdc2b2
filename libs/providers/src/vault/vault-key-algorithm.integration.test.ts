// The key in a Vault-issued certificate is the key that was asked for, or the request is refused
// naming the role's key type — against a real Vault-API server, whose roles decide the key.
import { inspectCertificate } from '@fsm-certs/x509';
import { opensslKeyMatches } from '@fsm-certs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerFailure } from '../provider-error.test-helpers.js';
import { issueRequest, startVaultSuite } from './vault-target.test-helpers.js';
import type { VaultSuite } from './vault-target.test-helpers.js';

const suite: VaultSuite = await startVaultSuite({ suite: 'vault key algorithm' });
const { admin, mount } = suite;

describe(`key algorithms through Vault roles, against ${suite.target.description}`, () => {
  beforeAll(async () => {
    await suite.bootstrap();
    await admin.call('POST', `${mount}/roles/any-key`, { allow_any_name: true, key_type: 'any', max_ttl: '24h', use_csr_common_name: false, use_csr_sans: false });
  });
  afterAll(() => suite.close());

  it('refuses rsa-2048 on an EC role with 400 INVALID_REQUEST naming the role\'s key type, and still serves P-256', async () => {
    const provider = await suite.start();
    const error = await providerFailure(provider.issue(issueRequest('rsa-wanted.example', { keyAlgorithm: 'rsa-2048' })));
    expect(error).toMatchObject({ code: 'INVALID_REQUEST', httpStatus: 400, retryable: false });
    expect(error.message).toContain('issues ec');
    expect(error.message).toContain('ecdsa-p256');
    const ec = await provider.issue(issueRequest('ec-wanted.example'));
    expect(inspectCertificate(ec.certificatePem).keyType).toBe('ec');
  });

  it('refuses the same way when its token may not read the role, from the certificate Vault returned', async () => {
    const policy = `${mount}-issue-only`;
    await admin.writePolicy(policy, `path "${mount}/issue/fsm" { capabilities = ["update"] }\npath "${mount}/sign/fsm" { capabilities = ["update"] }`);
    const token = await admin.createToken({ policies: [policy] });
    const provider = await suite.start({ token });
    const error = await providerFailure(provider.issue(issueRequest('rsa-blind.example', { keyAlgorithm: 'rsa-3072' })));
    expect(error).toMatchObject({ code: 'INVALID_REQUEST', httpStatus: 400 });
    expect(error.message).toContain('issues ec');
  });

  it.each(['ecdsa-p256', 'rsa-2048', 'rsa-3072'] as const)('issues %s through a role with key_type=any, with a key of exactly that kind', async (keyAlgorithm) => {
    const provider = await suite.start({ role: 'any-key' });
    const cert = await provider.issue(issueRequest(`${keyAlgorithm}.any.example`, { keyAlgorithm }));
    const info = inspectCertificate(cert.certificatePem);
    expect(info.keyType).toBe(keyAlgorithm === 'ecdsa-p256' ? 'ec' : 'rsa');
    expect(info.keySize).toBe(keyAlgorithm === 'ecdsa-p256' ? 256 : Number(keyAlgorithm.slice(4)));
    expect(opensslKeyMatches(cert.certificatePem, cert.privateKeyPem ?? '')).toBe(true);
    expect(cert.warnings).toEqual([]);
    // RSA key generation inside Vault takes seconds on a busy machine.
  }, 90_000);

  it('serves rsa-2048 without a restart once the operator widens the role to key_type=any', async () => {
    const role = { allow_any_name: true, max_ttl: '24h', use_csr_common_name: false, use_csr_sans: false };
    await admin.call('POST', `${mount}/roles/widened`, { ...role, key_type: 'ec' });
    const provider = await suite.start({ role: 'widened' });
    expect(await providerFailure(provider.issue(issueRequest('before-widening.example', { keyAlgorithm: 'rsa-2048' })))).toMatchObject({ code: 'INVALID_REQUEST' });
    await admin.call('POST', `${mount}/roles/widened`, { ...role, key_type: 'any' });
    const cert = await provider.issue(issueRequest('after-widening.example', { keyAlgorithm: 'rsa-2048' }));
    expect(inspectCertificate(cert.certificatePem)).toMatchObject({ keyType: 'rsa', keySize: 2048 });
  });
});
