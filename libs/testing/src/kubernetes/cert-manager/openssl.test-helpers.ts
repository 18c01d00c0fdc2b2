// openssl as the independent judge of what the emulated issuer signs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export function withFiles<T>(files: Record<string, string>, run: (paths: Record<string, string>) => T): T {
  const dir = mkdtempSync(path.join(tmpdir(), 'cm-emu-'));
  try {
    const paths: Record<string, string> = {};
    for (const [name, content] of Object.entries(files)) {
      const file = path.join(dir, name);
      writeFileSync(file, content);
      paths[name] = file;
    }
    return run(paths);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `openssl verify` output for leaf against the CA file, e.g. "<path>: OK". Throws when verification fails. */
export function opensslVerify(caPem: string, leafPem: string, purpose?: 'sslserver' | 'sslclient'): string {
  return withFiles({ 'ca.pem': caPem, 'leaf.pem': leafPem }, (p) =>
    execFileSync('openssl', ['verify', ...(purpose === undefined ? [] : ['-purpose', purpose]), '-CAfile', p['ca.pem'] ?? '', p['leaf.pem'] ?? ''], { encoding: 'utf8', stdio: 'pipe' }),
  );
}

export function opensslText(certPem: string): string {
  return withFiles({ 'cert.pem': certPem }, (p) => execFileSync('openssl', ['x509', '-noout', '-text', '-in', p['cert.pem'] ?? ''], { encoding: 'utf8' }));
}

/** A CSR made by openssl itself, with extra request extensions (e.g. "keyUsage=critical,digitalSignature"). */
export function opensslCsr(commonName: string, addext: readonly string[]): string {
  return withFiles({}, () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cm-csr-'));
    try {
      const key = path.join(dir, 'key.pem');
      execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key], { stdio: 'pipe' });
      return execFileSync(
        'openssl',
        ['req', '-new', '-key', key, '-subj', `/CN=${commonName}`, '-addext', `subjectAltName=DNS:${commonName}`, ...addext.flatMap((ext) => ['-addext', ext])],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
