import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const main = path.join(root, 'tools/dev-vault/src/main.ts');

function start(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--import', 'tsx', '--conditions=development', main, ...args], { cwd: root, env: { ...process.env, ...env } });
}

/** Collect stdout until `marker` shows up (or the process ends). */
function readUntil(child: ChildProcessWithoutNullStreams, marker: string): Promise<{ out: string; err: string; code: number | null }> {
  return new Promise((resolve) => {
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes(marker)) resolve({ out, err, code: null });
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on('exit', (code) => resolve({ out, err, code }));
  });
}

function exitCode(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.on('exit', (code) => resolve(code));
  });
}

function exported(out: string, name: string): string {
  const match = new RegExp(`${name}=(\\S+)`).exec(out);
  if (match?.[1] === undefined) throw new Error(`no ${name} in:\n${out}`);
  return match[1];
}

// Without VAULT_ADDR the first real server found is used: OpenBao's bao where installed.
const withoutVault = { VAULT_ADDR: '', VAULT_TOKEN: '' };

async function refused(address: string): Promise<boolean> {
  return fetch(`${address}/v1/sys/health`).then(() => false, () => true);
}

describe('npm run dev:vault', () => {
  it('starts the first Vault it finds, prints it, bootstraps it, prints the export lines, and stops it on Ctrl-C', async () => {
    const child = start(['--port', '0'], withoutVault);
    const { out } = await readUntil(child, 'press Ctrl-C');
    // `openbao 2.7.2 (bao server -dev …)`, or the emulator where FSM_TEST_VAULT=emulator forces it.
    expect(out).toMatch(/\[dev-vault\] target: (\S+ \S+|the Vault emulator) \(/);
    expect(out).toMatch(/root\s+created/);
    expect(out).toContain('export CERT_MANAGER=vault VAULT_ROLE=fsm');
    const address = exported(out, 'VAULT_ADDR');
    expect(exported(out, 'VAULT_TOKEN')).toBe('xyz');
    const ca = await fetch(`${address}/v1/pki/ca/pem`);
    expect(await ca.text()).toContain('BEGIN CERTIFICATE');
    child.kill('SIGINT');
    expect(await exitCode(child)).toBe(0);
    expect(await refused(address)).toBe(true);
  });

  it('with --https: prints VAULT_CACERT, which verifies the https endpoint', async () => {
    const child = start(['--https', '--port', '0'], withoutVault);
    try {
      const { out } = await readUntil(child, 'press Ctrl-C');
      const address = exported(out, 'VAULT_ADDR');
      expect(address).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const ca = readFileSync(exported(out, 'VAULT_CACERT'), 'utf8');
      const status = await new Promise<number | undefined>((resolve, reject) => {
        https.get(`${address}/v1/sys/health`, { ca }, (res) => {
          res.resume();
          resolve(res.statusCode);
        }).on('error', reject);
      });
      expect(status).toBe(200);
    } finally {
      child.kill('SIGINT');
      await exitCode(child);
    }
  });

  it('with --emulator: runs the in-repo emulator and says so', async () => {
    const child = start(['--emulator', '--port', '0'], withoutVault);
    try {
      const { out } = await readUntil(child, 'press Ctrl-C');
      expect(out).toMatch(/\[dev-vault\] target: the Vault emulator/);
      const ca = await fetch(`${exported(out, 'VAULT_ADDR')}/v1/pki/ca/pem`);
      expect(await ca.text()).toContain('BEGIN CERTIFICATE');
    } finally {
      child.kill('SIGINT');
      await exitCode(child);
    }
  });
});
