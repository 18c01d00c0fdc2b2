// openssl as the independent judge of what we issue: nobody on this project wrote it. Every
// suite that checks certificates, keys or CSRs goes through these helpers.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface OpensslResult {
  readonly ok: boolean;
  readonly output: string;
}

/** Writes the files into a fresh temp dir, runs `body` with their paths, removes the dir. */
export function withTempFiles<T>(files: Readonly<Record<string, string>>, body: (paths: Record<string, string>) => T): T {
  const dir = mkdtempSync(path.join(tmpdir(), 'fsm-openssl-'));
  try {
    const paths: Record<string, string> = { dir };
    for (const [name, content] of Object.entries(files)) {
      paths[name] = path.join(dir, name);
      writeFileSync(paths[name], content);
    }
    return body(paths);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface VerifyOptions {
  /** Intermediates between the leaf and the roots (`-untrusted`). */
  readonly chainPem?: readonly string[];
  /** `-purpose sslserver|sslclient`: also check the leaf's key usages for that role. */
  readonly purpose?: 'sslserver' | 'sslclient';
}

/** `openssl verify -CAfile <roots> [-untrusted <chain>] <leaf>`; roots may be one PEM bundle or a list. */
export function opensslVerify(leafPem: string, rootsPem: string | readonly string[], options: VerifyOptions = {}): OpensslResult {
  const chain = options.chainPem ?? [];
  const files: Record<string, string> = { 'leaf.pem': leafPem, 'roots.pem': typeof rootsPem === 'string' ? rootsPem : rootsPem.join('\n') };
  if (chain.length > 0) files['chain.pem'] = chain.join('\n');
  return withTempFiles(files, (p) => {
    const args = ['verify', ...(options.purpose === undefined ? [] : ['-purpose', options.purpose]), '-CAfile', p['roots.pem'] ?? ''];
    if (chain.length > 0) args.push('-untrusted', p['chain.pem'] ?? '');
    args.push(p['leaf.pem'] ?? '');
    const res = spawnSync('openssl', args, { encoding: 'utf8' });
    return { ok: res.status === 0 && res.stdout.includes(': OK'), output: `${res.stdout}${res.stderr}` };
  });
}

/** Runs `openssl x509 -noout <flags>` on a PEM and returns stdout (throws on failure). */
export function opensslX509(pem: string, flags: readonly string[]): string {
  const res = spawnSync('openssl', ['x509', '-noout', ...flags], { input: pem, encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`openssl x509 ${flags.join(' ')} failed: ${res.stderr}`);
  return res.stdout;
}

/** `openssl x509 -noout -text`. */
export function opensslText(certPem: string): string {
  return opensslX509(certPem, ['-text']);
}

/** Whether the private key belongs to the certificate (compares the public keys openssl derives). */
export function opensslKeyMatches(certPem: string, keyPem: string): boolean {
  const fromCert = opensslX509(certPem, ['-pubkey']);
  const fromKey = execFileSync('openssl', ['pkey', '-pubout'], { input: keyPem, encoding: 'utf8' });
  return fromCert === fromKey;
}

/** A P-256 CSR made by openssl itself, with extra request extensions (e.g. "keyUsage=critical,digitalSignature"). */
export function opensslCsr(commonName: string, addext: readonly string[] = [], keyType: 'ec-p256' | 'rsa-2048' = 'ec-p256'): string {
  return withTempFiles({}, (p) => {
    const key = path.join(p['dir'] ?? '', 'key.pem');
    const algorithm = keyType === 'ec-p256' ? ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'];
    execFileSync('openssl', ['genpkey', ...algorithm, '-out', key], { stdio: 'pipe' });
    return execFileSync(
      'openssl',
      ['req', '-new', '-key', key, '-subj', `/CN=${commonName}`, '-addext', `subjectAltName=DNS:${commonName}`, ...addext.flatMap((ext) => ['-addext', ext])],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
  });
}
