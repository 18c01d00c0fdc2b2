import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createCsr, generateKeyPair } from '@fsm-certs/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VaultEmulator } from './emulator.js';
import { findBaoBinary, startBaoServer } from './openbao.js';

interface Answer {
  status: number;
  body: unknown;
  text: string;
}

interface Server {
  readonly address: string;
  readonly rootToken: string;
  close(): Promise<void>;
}

async function call(emu: Pick<Server, 'address' | 'rootToken'>, method: string, p: string, body?: unknown, token: string | null = emu.rootToken): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (token !== null) headers['X-Vault-Token'] = token;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${emu.address}/v1/${p}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    /* bare PEM */
  }
  return { status: res.status, body: parsed, text };
}

function field(value: unknown, ...keys: string[]): unknown {
  let cur = value;
  for (const key of keys) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function str(value: unknown): string {
  if (typeof value !== 'string') throw new Error(`expected a string, got ${JSON.stringify(value)}`);
  return value;
}

// The PKI behaviour below is checked on the emulator and, where OpenBao is installed, on the real
// server too: the same expectations hold the emulator to what a real Vault-API server answers.
const bao = findBaoBinary();
const kinds: ReadonlyArray<{ readonly name: string; readonly start: () => Promise<Server> }> = [
  { name: 'the emulator', start: () => VaultEmulator.start() },
  ...(bao === undefined ? [] : [{ name: `${bao.product} ${bao.version}`, start: () => startBaoServer({ binary: bao }) }]),
];

async function bootstrapped(start: () => Promise<Server>): Promise<Server> {
  const emu = await start();
  await call(emu, 'POST', 'sys/mounts/pki', { type: 'pki' });
  await call(emu, 'POST', 'sys/mounts/pki/tune', { max_lease_ttl: '87600h' });
  await call(emu, 'POST', 'pki/roles/fsm', { allow_any_name: true, allow_subdomains: true, allow_bare_domains: true, allow_localhost: true, max_ttl: '24h', key_type: 'ec', use_csr_common_name: false, use_csr_sans: false });
  await call(emu, 'POST', 'pki/roles/narrow', { allowed_domains: ['mesh.local'], allow_subdomains: true, max_ttl: '1h', key_type: 'ec' });
  await call(emu, 'POST', 'pki/root/generate/internal', { common_name: 'fsm.root', ttl: '87600h', key_type: 'ec' });
  return emu;
}

describe('Vault emulator: auth, health, mounts', () => {
  let emu: VaultEmulator;
  beforeAll(async () => {
    emu = await VaultEmulator.start({ rootToken: 'xyz' });
  });
  afterAll(() => emu.close());

  it('refuses a missing or unknown token with 403 permission denied', async () => {
    expect(await call(emu, 'GET', 'sys/mounts', undefined, null)).toMatchObject({ status: 403, body: { errors: ['permission denied'] } });
    expect(await call(emu, 'GET', 'auth/token/lookup-self', undefined, 'nope')).toMatchObject({ status: 403, body: { errors: ['permission denied'] } });
  });

  it('answers an unknown path with 404 and an empty errors list', async () => {
    expect(await call(emu, 'GET', 'nothing/here')).toMatchObject({ status: 404, body: { errors: [] } });
  });

  it('reports health 200, and 503 with sealed=true while sealed, when every other call is 503', async () => {
    expect(await call(emu, 'GET', 'sys/health', undefined, null)).toMatchObject({ status: 200, body: { initialized: true, sealed: false, standby: false } });
    emu.seal();
    try {
      expect(await call(emu, 'GET', 'sys/health', undefined, null)).toMatchObject({ status: 503, body: { sealed: true } });
      expect(await call(emu, 'GET', 'sys/mounts')).toMatchObject({ status: 503, body: { errors: ['Vault is sealed'] } });
    } finally {
      emu.unseal();
    }
  });

  it('enables a mount once (204) and refuses the second time with 400 path is already in use', async () => {
    expect((await call(emu, 'POST', 'sys/mounts/pki', { type: 'pki' })).status).toBe(204);
    expect(await call(emu, 'POST', 'sys/mounts/pki', { type: 'pki' })).toMatchObject({ status: 400, body: { errors: ['path is already in use at pki/'] } });
    expect(field((await call(emu, 'GET', 'sys/mounts')).body, 'data', 'pki/', 'type')).toBe('pki');
  });

  it('reads a tuned max lease TTL back in seconds', async () => {
    expect((await call(emu, 'POST', 'sys/mounts/pki/tune', { max_lease_ttl: '87600h' })).status).toBe(204);
    expect(field((await call(emu, 'GET', 'sys/mounts/pki/tune')).body, 'data', 'max_lease_ttl')).toBe(87600 * 3600);
  });

  it('answers ca/pem with 204 and no body while the mount has no CA, and a missing role with 404', async () => {
    expect(await call(emu, 'GET', 'pki/ca/pem', undefined, null)).toMatchObject({ status: 204, text: '' });
    expect(await call(emu, 'GET', 'pki/roles/fsm')).toMatchObject({ status: 404, body: { errors: [] } });
  });

  it('looks up a token and renews a renewable one; refuses to renew the root token', async () => {
    const token = emu.createToken({ ttlSeconds: 60, renewable: true });
    expect(field((await call(emu, 'GET', 'auth/token/lookup-self', undefined, token)).body, 'data', 'renewable')).toBe(true);
    const renewed = await call(emu, 'POST', 'auth/token/renew-self', { increment: '2h' }, token);
    expect(field(renewed.body, 'auth', 'lease_duration')).toBe(7200);
    expect(await call(emu, 'POST', 'auth/token/renew-self', {})).toMatchObject({ status: 400, body: { errors: ['lease is not renewable'] } });
  });

  it('goes away on stop() and comes back on the same port with its state on start()', async () => {
    const port = emu.port;
    await emu.stop();
    await expect(fetch(`${emu.address}/v1/sys/health`)).rejects.toThrow();
    await emu.start();
    expect(emu.port).toBe(port);
    expect(field((await call(emu, 'GET', 'sys/mounts')).body, 'data', 'pki/', 'type')).toBe('pki');
  });
});

describe.each(kinds)('Vault PKI issue and sign on $name', ({ start }) => {
  let emu: Server;
  let dir: string;
  beforeAll(async () => {
    emu = await bootstrapped(start);
    dir = mkdtempSync(path.join(tmpdir(), 'vault-emu-'));
  });
  afterAll(() => emu.close());

  it('issues a server-key certificate with chain, colon-hex serial, expiration and key type that openssl verifies', async () => {
    const asked = Date.now();
    const res = await call(emu, 'POST', 'pki/issue/fsm', { common_name: 'bookstore.bookstore.cluster.local', alt_names: 'a.example,b.example', ttl: '5400s' });
    expect(res.status).toBe(200);
    const cert = new X509Certificate(str(field(res.body, 'data', 'certificate')));
    expect(field(res.body, 'data', 'private_key_type')).toBe('ec');
    expect(str(field(res.body, 'data', 'private_key'))).toContain('BEGIN EC PRIVATE KEY');
    expect(str(field(res.body, 'data', 'serial_number'))).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2})+$/);
    expect(field(res.body, 'data', 'expiration')).toBe(Math.floor(new Date(cert.validTo).getTime() / 1000));
    expect(field(res.body, 'data', 'ca_chain')).toEqual([field(res.body, 'data', 'issuing_ca')]);
    // Signed after it was asked for (to the second): the TTL counts from then.
    expect(new Date(cert.validTo).getTime()).toBeGreaterThanOrEqual(Math.floor(asked / 1000) * 1000 + 5400_000);
    expect(cert.subjectAltName).toContain('DNS:a.example');
    const ca = await call(emu, 'GET', 'pki/ca/pem', undefined, null);
    expect(ca.text).toBe(str(field(res.body, 'data', 'issuing_ca')));
    writeFileSync(path.join(dir, 'ca.pem'), ca.text);
    writeFileSync(path.join(dir, 'leaf.pem'), cert.toString());
    expect(execFileSync('openssl', ['verify', '-CAfile', path.join(dir, 'ca.pem'), path.join(dir, 'leaf.pem')]).toString()).toContain('OK');
  });

  it('signs a CSR with the identity from the request when the role does not use the CSR names', async () => {
    const csr = createCsr({ commonName: 'ignored.example', keyPair: generateKeyPair('ecdsa-p256') });
    const res = await call(emu, 'POST', 'pki/sign/fsm', { csr, common_name: 'caller.ns.cluster.local', ttl: '1h' });
    expect(res.status).toBe(200);
    expect(field(res.body, 'data', 'private_key')).toBeUndefined();
    expect(new X509Certificate(str(field(res.body, 'data', 'certificate'))).subject).toContain('CN=caller.ns.cluster.local');
  });

  it('refuses a name outside the role with 400 "not allowed by this role", for the CN and for SANs', async () => {
    expect(await call(emu, 'POST', 'pki/issue/narrow', { common_name: 'evil.example' })).toMatchObject({ status: 400, body: { errors: ['common name evil.example not allowed by this role'] } });
    expect(await call(emu, 'POST', 'pki/issue/narrow', { common_name: 'a.mesh.local', alt_names: 'evil.example' })).toMatchObject({ status: 400, body: { errors: ['subject alternate name evil.example not allowed by this role'] } });
    expect(await call(emu, 'POST', 'pki/issue/narrow', { common_name: 'mesh.local' })).toMatchObject({ status: 400 });
    expect((await call(emu, 'POST', 'pki/issue/narrow', { common_name: 'svc.mesh.local', ttl: '20m' })).status).toBe(200);
  });

  it('caps a TTL above the role max_ttl and says so in warnings', async () => {
    const asked = Date.now();
    const res = await call(emu, 'POST', 'pki/issue/fsm', { common_name: 'long.example', ttl: '48h' });
    const answered = Date.now();
    expect(res.status).toBe(200);
    expect(field(res.body, 'warnings')).toEqual(['TTL "48h0m0s" is longer than permitted maxTTL "24h0m0s", so maxTTL is being used']);
    const notAfter = new Date(new X509Certificate(str(field(res.body, 'data', 'certificate'))).validTo).getTime();
    // 24 h from when it was signed, which happened between asking and the answer.
    expect(notAfter).toBeGreaterThanOrEqual(Math.floor(asked / 1000) * 1000 + 24 * 3600_000);
    expect(notAfter).toBeLessThanOrEqual(answered + 24 * 3600_000);
  });

  it('refuses a certificate that would outlive the CA', async () => {
    const short = await start();
    try {
      await call(short, 'POST', 'sys/mounts/pki', { type: 'pki' });
      await call(short, 'POST', 'pki/root/generate/internal', { common_name: 'short.root', ttl: '2h', key_type: 'ec' });
      await call(short, 'POST', 'pki/roles/r', { allow_any_name: true, max_ttl: '24h', key_type: 'ec' });
      const res = await call(short, 'POST', 'pki/issue/r', { common_name: 'x.example', ttl: '3h' });
      expect(res.status).toBe(400);
      expect(str(field(res.body, 'errors', '0'))).toMatch(/^cannot satisfy request, as TTL would result in notAfter .* that is beyond the expiration of the CA certificate/);
    } finally {
      await short.close();
    }
  });

  it('adds an issuer on a second root generation but keeps serving the first as the CA', async () => {
    const before = (await call(emu, 'GET', 'pki/ca/pem', undefined, null)).text;
    const second = await call(emu, 'POST', 'pki/root/generate/internal', { common_name: 'other.root', ttl: '1h', key_type: 'ec' });
    expect(second.status).toBe(200);
    expect(field(second.body, 'data', 'issuer_id')).toEqual(expect.any(String));
    expect((await call(emu, 'GET', 'pki/ca/pem', undefined, null)).text).toBe(before);
    expect(field((await call(emu, 'GET', 'pki/cert/ca', undefined, null)).body, 'data', 'certificate')).toBe(before);
  });

  it('refuses an unknown role and an EC CSR on an rsa role with 400', async () => {
    expect(await call(emu, 'POST', 'pki/issue/nope', { common_name: 'x.example' })).toMatchObject({ status: 400, body: { errors: ['unknown role: nope'] } });
    await call(emu, 'POST', 'pki/roles/rsa', { allow_any_name: true, key_type: 'rsa' });
    const csr = createCsr({ commonName: 'x.example', keyPair: generateKeyPair('ecdsa-p256') });
    expect(await call(emu, 'POST', 'pki/sign/rsa', { csr, common_name: 'x.example' })).toMatchObject({ status: 400, body: { errors: ['role requires keys of type rsa'] } });
  });

  it("warns about parameters a role write does not know (FSM's deploy-vault.sh writes allow_baredomains)", async () => {
    const res = await call(emu, 'POST', 'pki/roles/seed', { allow_any_name: true, allow_baredomains: true });
    expect(res.status).toBe(200);
    expect(field(res.body, 'warnings')).toEqual(['Endpoint ignored these unrecognized parameters: [allow_baredomains]']);
  });
});

// What the provider suites rely on beyond issuing, held to OpenBao's answers the same way.
describe.each(kinds)('Vault tokens, policies, key types and issuers on $name', ({ start }) => {
  let emu: Server;
  beforeAll(async () => {
    emu = await bootstrapped(start);
  });
  afterAll(() => emu.close());

  it('confines a token to its policy (403 elsewhere, capabilities-self says deny), and refuses it everywhere once revoked', async () => {
    expect((await call(emu, 'PUT', 'sys/policies/acl/issue-only', { policy: 'path "pki/issue/fsm" { capabilities = ["update"] }' })).status).toBe(204);
    expect(field((await call(emu, 'GET', 'sys/policies/acl?list=true')).body, 'data', 'keys')).toEqual(['default', 'issue-only', 'root']);
    const created = await call(emu, 'POST', 'auth/token/create', { policies: ['issue-only'], ttl: '1h' });
    const token = str(field(created.body, 'auth', 'client_token'));
    expect(field(created.body, 'auth', 'policies')).toEqual(['default', 'issue-only']);
    expect((await call(emu, 'POST', 'pki/issue/fsm', { common_name: 'ok.example' }, token)).status).toBe(200);
    expect((await call(emu, 'GET', 'pki/roles/fsm', undefined, token)).status).toBe(403);
    expect((await call(emu, 'GET', 'auth/token/lookup-self', undefined, token)).status).toBe(200);
    const caps = await call(emu, 'POST', 'sys/capabilities-self', { paths: ['pki/issue/fsm', 'pki/sign/fsm'] }, token);
    expect(field(caps.body, 'data')).toEqual({ 'pki/issue/fsm': ['update'], 'pki/sign/fsm': ['deny'] });
    expect((await call(emu, 'POST', 'auth/token/revoke', { token })).status).toBe(204);
    expect(await call(emu, 'GET', 'auth/token/lookup-self', undefined, token)).toMatchObject({ status: 403, body: { errors: ['permission denied'] } });
    expect((await call(emu, 'DELETE', 'sys/policies/acl/issue-only')).status).toBe(204);
  });

  it('issues the key asked for through a key_type=any role, refuses one without key_type, and a fixed role says it ignored them', async () => {
    await call(emu, 'POST', 'pki/roles/any', { allow_any_name: true, key_type: 'any', max_ttl: '24h' });
    const rsa = await call(emu, 'POST', 'pki/issue/any', { common_name: 'rsa.example', key_type: 'rsa', key_bits: 3072, ttl: '1h' });
    expect(field(rsa.body, 'warnings')).toBeNull();
    expect(new X509Certificate(str(field(rsa.body, 'data', 'certificate'))).publicKey.asymmetricKeyDetails?.modulusLength).toBe(3072);
    expect(await call(emu, 'POST', 'pki/issue/any', { common_name: 'none.example', ttl: '1h' })).toMatchObject({
      status: 400,
      body: { errors: ['role key type "any" not allowed for issuing certificates without providing key_type and/or key_bits request parameters'] },
    });
    const fixed = await call(emu, 'POST', 'pki/issue/fsm', { common_name: 'ec.example', key_type: 'rsa', key_bits: 2048, ttl: '1h' });
    expect(field(fixed.body, 'data', 'private_key_type')).toBe('ec');
    expect(field(fixed.body, 'warnings')).toEqual(['parameters key_type and key_bits ignored as role had specific values']);
  });

  it('rotates a root: rotate/internal adds an issuer, root/replace makes it the default, and a deleted issuer leaves the list', async () => {
    const first = str(field((await call(emu, 'GET', 'pki/issuer/default/json', undefined, null)).body, 'data', 'issuer_id'));
    const rotated = await call(emu, 'POST', 'pki/root/rotate/internal', { common_name: 'fsm.root.next', key_type: 'ec', ttl: '8760h', issuer_name: 'next' });
    const next = str(field(rotated.body, 'data', 'issuer_id'));
    expect(str(field((await call(emu, 'GET', 'pki/issuer/default/json', undefined, null)).body, 'data', 'issuer_id'))).toBe(first);
    expect(field((await call(emu, 'POST', 'pki/root/replace', { default: next })).body, 'data')).toEqual({ default: next, default_follows_latest_issuer: false });
    const listed = await call(emu, 'GET', 'pki/issuers?list=true', undefined, null);
    expect(field(listed.body, 'data', 'key_info', next, 'is_default')).toBe(true);
    expect(field(listed.body, 'data', 'key_info', first, 'is_default')).toBe(false);
    const json = await call(emu, 'GET', `pki/issuer/${next}/json`, undefined, null);
    expect(field(json.body, 'data', 'issuer_name')).toBe('next');
    expect(field(json.body, 'data', 'ca_chain')).toEqual([field(json.body, 'data', 'certificate')]);
    expect((await call(emu, 'DELETE', `pki/issuer/${first}`)).status).toBe(200);
    expect(field((await call(emu, 'GET', 'pki/issuers?list=true', undefined, null)).body, 'data', 'keys')).toEqual([next]);
  });
});
