import { VaultEmulator } from '@fsm-certs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, runBootstrap } from './run.js';

interface Run {
  code: number;
  out: string[];
  err: string[];
}

async function run(argv: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runBootstrap({ argv, env, out: (l) => out.push(l), err: (l) => err.push(l), sleep: () => Promise.resolve() });
  return { code, out, err };
}

describe('vault-bootstrap', () => {
  let vault: VaultEmulator;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    vault = await VaultEmulator.start({ rootToken: 'xyz' });
    env = { VAULT_ADDR: vault.address, VAULT_TOKEN: 'xyz' };
  });
  afterAll(() => vault.close());

  it('prints the plan on --dry-run and changes nothing', async () => {
    const r = await run(['--dry-run'], env);
    expect(r.code).toBe(EXIT.ok);
    expect(r.out.join('\n')).toContain('would create');
    expect(r.out.at(-1)).toBe('plan: changes pending (run without --dry-run to apply)');
    expect(vault.requests.some((q) => q.method === 'POST')).toBe(false);
  });

  it('sets Vault up on the first run, step by step, with URLs derived from the Vault address', async () => {
    const r = await run([], env);
    expect(r.code).toBe(EXIT.ok);
    const text = r.out.join('\n');
    for (const step of ['mount', 'tune', 'urls', 'role', 'root']) expect(text).toMatch(new RegExp(`${step}\\s+(created|updated)`));
    expect(text).toContain(`${vault.address}/v1/pki/ca`);
    expect(r.out.at(-1)).toBe('done: Vault PKI is set up');
    const root = vault.requests.find((q) => q.path === '/v1/pki/root/generate/internal');
    expect(root?.body).toMatchObject({ common_name: 'fsm.root', ttl: '87600h' });
    const role = vault.requests.find((q) => q.path === '/v1/pki/roles/fsm' && q.method === 'POST');
    expect(role?.body).toMatchObject({ allow_any_name: true, allow_subdomains: true, allow_bare_domains: true, allow_localhost: true, max_ttl: '24h' });
  });

  it('says "no changes" on the second run and generates no second root', async () => {
    const r = await run([], env);
    expect(r.code).toBe(EXIT.ok);
    expect(r.out.filter((l) => l.includes('unchanged'))).toHaveLength(6);
    expect(r.out.at(-1)).toBe('done: no changes');
    expect(vault.requests.filter((q) => q.path === '/v1/pki/root/generate/internal')).toHaveLength(1);
  });

  it('updates only the role when a role option changes', async () => {
    const r = await run(['--max-ttl', '12h'], env);
    expect(r.out.join('\n')).toMatch(/role\s+updated\s+update role fsm: max_ttl: 86400s -> 43200s/);
    expect(r.out.filter((l) => l.includes('unchanged'))).toHaveLength(5);
  });

  it('exits 3 when Vault is unreachable', async () => {
    const down = await VaultEmulator.start();
    const address = down.address;
    await down.close();
    const r = await run(['--wait', '1s'], { VAULT_ADDR: address, VAULT_TOKEN: 'root' });
    expect(r.code).toBe(EXIT.unreachable);
    expect(r.err.join('\n')).toContain('Vault unreachable');
  });

  it('exits 3 while Vault stays sealed', async () => {
    vault.seal();
    try {
      const r = await run(['--wait', '1s'], env);
      expect(r.code).toBe(EXIT.unreachable);
      expect(r.err.join('\n')).toContain('sealed');
    } finally {
      vault.unseal();
    }
  });

  it('exits 4 when Vault refuses the token, without printing it', async () => {
    const r = await run([], { ...env, VAULT_TOKEN: 'wrong-token' });
    expect(r.code).toBe(EXIT.refused);
    expect(r.err.join('\n')).toContain('Vault refused');
    expect(r.err.join('\n')).not.toContain('wrong-token');
  });

  it.each([
    { what: 'no Vault address', argv: [], env: { VAULT_TOKEN: 'xyz' } },
    { what: 'a bad duration', argv: ['--max-ttl', 'soon'], env: undefined },
    { what: 'an unknown flag', argv: ['--frobnicate'], env: undefined },
    { what: 'a bad key type', argv: ['--key-type', 'dsa'], env: undefined },
  ])('exits 2 on bad configuration: $what', async ({ argv, env: override }) => {
    const r = await run(argv, override ?? env);
    expect(r.code).toBe(EXIT.badConfig);
    expect(r.err[0]).toContain('bad configuration');
  });
});
