// openssl as the independent judge of what the system issues.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface OpensslResult {
  readonly ok: boolean;
  readonly output: string;
}

/** `openssl verify -CAfile <roots> [-untrusted <chain>] <leaf>`; roots may be one PEM bundle or a list. */
export function opensslVerify(leafPem: string, rootsPem: string | readonly string[], chainPem: readonly string[] = []): OpensslResult {
  const dir = mkdtempSync(path.join(tmpdir(), 'fsm-verify-'));
  try {
    const leaf = path.join(dir, 'leaf.pem');
    const roots = path.join(dir, 'roots.pem');
    writeFileSync(leaf, leafPem);
    writeFileSync(roots, typeof rootsPem === 'string' ? rootsPem : rootsPem.join('\n'));
    const args = ['verify', '-CAfile', roots];
    if (chainPem.length > 0) {
      const chain = path.join(dir, 'chain.pem');
      writeFileSync(chain, chainPem.join('\n'));
      args.push('-untrusted', chain);
    }
    args.push(leaf);
    const res = spawnSync('openssl', args, { encoding: 'utf8' });
    return { ok: res.status === 0 && res.stdout.includes(': OK'), output: `${res.stdout}${res.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs `openssl x509 -noout <flags>` on a PEM and returns stdout (throws on failure). */
export function opensslX509(pem: string, flags: readonly string[]): string {
  const res = spawnSync('openssl', ['x509', '-noout', ...flags], { input: pem, encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`openssl x509 ${flags.join(' ')} failed: ${res.stderr}`);
  return res.stdout;
}
