// vault-bootstrap against a real Vault-API server (OpenBao `bao server -dev` unless the
// environment names one), on a scratch mount so a shared Vault is left as it was found.
import { X509Certificate } from 'node:crypto';
import { VaultAdmin, freeLoopbackPort, startVaultTarget } from '@fsm-certs/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT, runBootstrap } from './run.js';

interface Run {
  code: number;
  out: string[];
  err: string[];
}

async function run(argv: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  // Its waits run on a clock of their own that each sleep moves on at once: `--wait 1s` ends after
  // as many polls as a second holds, however busy this machine is.
  let now = 0;
  const sleep = async (ms: number): Promise<void> => {
    now += ms;
  };
  const code = await runBootstrap({ argv, env, out: (l) => out.push(l), err: (l) => err.push(l), sleep, now: () => now });
  return { code, out, err };
}

const target = await startVaultTarget({ suite: 'vault-bootstrap' });
const admin = new VaultAdmin(target);
const mount = admin.scratchMount();
const env: NodeJS.ProcessEnv = {
  VAULT_ADDR: target.address,
  VAULT_TOKEN: target.rootToken,
  VAULT_MOUNT_PATH: mount,
  ...(target.caFile === undefined ? {} : { VAULT_CACERT: target.caFile }),
};

async function mountExists(): Promise<boolean> {
  const mounts = await admin.call('GET', 'sys/mounts');
  return typeof mounts === 'object' && mounts !== null && 'data' in mounts && typeof mounts.data === 'object' && mounts.data !== null && `${mount}/` in mounts.data;
}

async function caPem(): Promise<string> {
  const answer = await admin.raw('GET', `${mount}/ca/pem`);
  return typeof answer.body === 'string' ? answer.body : '';
}

async function issuerCount(): Promise<number> {
  const answer = await admin.raw('LIST', `${mount}/issuers`);
  const keys = typeof answer.body === 'object' && answer.body !== null && 'data' in answer.body ? (answer.body.data as { keys?: unknown }).keys : undefined;
  return Array.isArray(keys) ? keys.length : 0;
}

describe(`vault-bootstrap against ${target.description}`, () => {
  afterAll(async () => {
    await admin.cleanup();
    await target.close();
  });

  it('prints the plan on --dry-run and changes nothing', async () => {
    const r = await run(['--dry-run'], env);
    expect(r.code).toBe(EXIT.ok);
    expect(r.out.join('\n')).toContain('would create');
    expect(r.out.at(-1)).toBe('plan: changes pending (run without --dry-run to apply)');
    expect(await mountExists()).toBe(false);
  });

  it('sets Vault up on the first run, step by step, with URLs derived from the Vault address', async () => {
    const r = await run([], env);
    expect(r.code).toBe(EXIT.ok);
    const text = r.out.join('\n');
    for (const step of ['mount', 'tune', 'urls', 'role', 'root']) expect(text).toMatch(new RegExp(`${step}\\s+(created|updated)`));
    expect(text).toContain(`${target.address}/v1/${mount}/ca`);
    expect(r.out.at(-1)).toBe('done: Vault PKI is set up');
    // What Vault now holds, read back: deploy-vault.sh's root and role.
    const root = new X509Certificate(await caPem());
    expect(root.subject).toBe('CN=fsm.root');
    const decadeMs = 87600 * 3600_000;
    expect(Math.abs(Date.parse(root.validTo) - Date.parse(root.validFrom) - decadeMs)).toBeLessThan(3600_000);
    const role = await admin.call('GET', `${mount}/roles/fsm`);
    expect(role).toMatchObject({ data: { allow_any_name: true, allow_subdomains: true, allow_bare_domains: true, allow_localhost: true, max_ttl: 86400, key_type: 'ec' } });
  });

  it('says "no changes" on the second run and generates no second root', async () => {
    const rootBefore = await caPem();
    const r = await run([], env);
    expect(r.code).toBe(EXIT.ok);
    expect(r.out.filter((l) => l.includes('unchanged'))).toHaveLength(6);
    expect(r.out.at(-1)).toBe('done: no changes');
    expect(await caPem()).toBe(rootBefore);
    expect(await issuerCount()).toBe(1);
  });

  it('updates only the role when a role option changes', async () => {
    const r = await run(['--max-ttl', '12h'], env);
    expect(r.out.join('\n')).toMatch(/role\s+updated\s+update role fsm: max_ttl: 86400s -> 43200s/);
    expect(r.out.filter((l) => l.includes('unchanged'))).toHaveLength(5);
  });

  it('exits 3 when Vault is unreachable', async () => {
    const nobody = `http://127.0.0.1:${await freeLoopbackPort()}`;
    const r = await run(['--wait', '1s'], { VAULT_ADDR: nobody, VAULT_TOKEN: 'root' });
    expect(r.code).toBe(EXIT.unreachable);
    expect(r.err.join('\n')).toContain('Vault unreachable');
  });

  // Sealing needs a Vault we own; one from the environment is never sealed by a test.
  it.skipIf(target.faults?.seal === undefined)('exits 3 while Vault stays sealed', async () => {
    const seal = target.faults?.seal;
    const unseal = target.faults?.unseal;
    if (seal === undefined || unseal === undefined) return;
    await seal();
    try {
      const r = await run(['--wait', '1s'], env);
      expect(r.code).toBe(EXIT.unreachable);
      expect(r.err.join('\n')).toContain('sealed');
    } finally {
      await unseal();
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
