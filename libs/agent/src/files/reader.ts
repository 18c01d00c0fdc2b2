// How to read the agent's files as one consistent triple — for workloads written in Node (and
// the agent itself at start-up). Opening DIR/cert.pem and then DIR/key.pem follows `..data`
// twice; a swap between the two opens would pair a new certificate with an old key. Resolving
// `..data` once and reading all three from that snapshot cannot mix generations. The agent
// deletes a snapshot only two swaps later, so this fails with ENOENT only for a reader slower
// than two renewals; it then starts again.
import { readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { CA_FILE, CERT_FILE, DATA_LINK, KEY_FILE, type CertificateFiles } from './layout.js';

export interface ReadFilesResult extends CertificateFiles {
  /** The snapshot read (`..2026_…`), or undefined for plain files written by something else. */
  readonly snapshot: string | undefined;
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

async function readTriple(dir: string): Promise<CertificateFiles> {
  const [cert, key, ca] = await Promise.all([CERT_FILE, KEY_FILE, CA_FILE].map((name) => readFile(path.join(dir, name), 'utf8')));
  return { cert: cert ?? '', key: key ?? '', ca: ca ?? '' };
}

/**
 * The current cert.pem, key.pem and ca.pem of an agent directory, all from one snapshot;
 * undefined when the directory holds none. Plain files (no `..data`, e.g. left by `fsm-certs
 * cert issue`) are read as they are.
 */
export async function readCertificateFiles(dir: string, options: { attempts?: number } = {}): Promise<ReadFilesResult | undefined> {
  const attempts = options.attempts ?? 5;
  for (let attempt = 1; ; attempt += 1) {
    let snapshot: string;
    try {
      snapshot = await readlink(path.join(dir, DATA_LINK));
    } catch (error) {
      if (!isMissing(error) && (error as NodeJS.ErrnoException).code !== 'EINVAL') throw error;
      try {
        return { ...(await readTriple(dir)), snapshot: undefined };
      } catch (plainError) {
        if (isMissing(plainError)) return undefined;
        throw plainError;
      }
    }
    try {
      return { ...(await readTriple(path.join(dir, snapshot))), snapshot };
    } catch (error) {
      // The snapshot was removed after we resolved it: two swaps happened meanwhile. Again.
      if (!isMissing(error) || attempt >= attempts) throw error;
    }
  }
}
