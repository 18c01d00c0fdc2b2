// Writing an issued certificate to disk: cert.pem, key.pem (0600, only when the gateway generated
// the key), ca.pem (every trusted root, to verify peers through a root rotation) and chain.pem
// (the leaf followed by its intermediates: what a TLS server presents).
import path from 'node:path';
import type { CertificateResponse } from '@fsm-certs/client';
import { ensureOutDir, refuseOverwrite, writePrivate, writePublic } from '../files.js';

export interface WrittenFiles {
  readonly cert: string;
  readonly key?: string;
  readonly ca: string;
  readonly chain: string;
}

export function certFilePaths(out: string): { cert: string; key: string; ca: string; chain: string } {
  return { cert: path.join(out, 'cert.pem'), key: path.join(out, 'key.pem'), ca: path.join(out, 'ca.pem'), chain: path.join(out, 'chain.pem') };
}

/** Fails before any request when files would be overwritten without --force. */
export function checkCertFilesFree(out: string, withKey: boolean, force: boolean): void {
  const files = certFilePaths(out);
  refuseOverwrite(withKey ? [files.cert, files.key, files.ca, files.chain] : [files.cert, files.ca, files.chain], force);
}

export function writeCertFiles(out: string, cert: CertificateResponse): WrittenFiles {
  const files = certFilePaths(out);
  ensureOutDir(out);
  // The key first: a crash after it leaves no certificate pointing at a key that is not there.
  if (cert.privateKey !== undefined) writePrivate(files.key, ensureNewline(cert.privateKey));
  writePublic(files.cert, ensureNewline(cert.certificate));
  writePublic(files.chain, [cert.certificate, ...cert.chain].map(ensureNewline).join(''));
  const roots = cert.trustedCAs.length > 0 ? cert.trustedCAs : [cert.issuingCA];
  writePublic(files.ca, roots.map(ensureNewline).join(''));
  return { cert: files.cert, ca: files.ca, chain: files.chain, ...(cert.privateKey === undefined ? {} : { key: files.key }) };
}

function ensureNewline(pem: string): string {
  return pem.endsWith('\n') ? pem : `${pem}\n`;
}
