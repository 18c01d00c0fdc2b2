// Independent checks with the openssl binary: nobody here wrote it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

function withFiles<T>(files: Record<string, string>, body: (paths: Record<string, string>) => T): T {
  const dir = mkdtempSync(path.join(tmpdir(), 'fsm-openssl-'));
  try {
    const paths: Record<string, string> = {};
    for (const [name, content] of Object.entries(files)) {
      paths[name] = path.join(dir, name);
      writeFileSync(paths[name], content);
    }
    return body(paths);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `openssl verify -CAfile root leaf`; returns openssl's output, throws with it when verification fails. */
export function opensslVerify(rootPem: string, leafPem: string): string {
  return withFiles({ 'root.pem': rootPem, 'leaf.pem': leafPem }, (p) =>
    execFileSync('openssl', ['verify', '-CAfile', p['root.pem'] ?? '', p['leaf.pem'] ?? ''], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
  );
}

/** `openssl x509 -text -noout`. */
export function opensslText(certPem: string): string {
  return withFiles({ 'cert.pem': certPem }, (p) => execFileSync('openssl', ['x509', '-in', p['cert.pem'] ?? '', '-text', '-noout'], { encoding: 'utf8' }));
}

/** Whether the private key belongs to the certificate (compares the public keys openssl derives). */
export function opensslKeyMatches(certPem: string, keyPem: string): boolean {
  return withFiles({ 'cert.pem': certPem, 'key.pem': keyPem }, (p) => {
    const fromCert = execFileSync('openssl', ['x509', '-in', p['cert.pem'] ?? '', '-noout', '-pubkey'], { encoding: 'utf8' });
    const fromKey = execFileSync('openssl', ['pkey', '-in', p['key.pem'] ?? '', '-pubout'], { encoding: 'utf8' });
    return fromCert === fromKey;
  });
}
