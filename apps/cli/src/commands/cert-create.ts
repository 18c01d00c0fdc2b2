// fsm-certs cert create CN --ca-dir DIR [--san NAME]... [--validity 24h] [--key ALG] [--csr FILE] --out DIR
// Writes cert.pem, key.pem (server-generated key only) and ca.pem.
import path from 'node:path';
import { formatOpensslDate, isX509Error, issueLeaf, loadIssuer, parseCsr } from '@fsm-certs/x509';
import type { Issuer } from '@fsm-certs/x509';
import { CliInputError } from '../errors.js';
import { ensureOutDir, readInput, refuseOverwrite, writePrivate, writePublic } from '../files.js';
import { durationOption, keyAlgorithmOption, requiredOption, splitSans } from '../options.js';

export interface CertCreateArgs {
  readonly commonName?: string;
  readonly caDir?: string;
  readonly san?: readonly string[];
  readonly validity?: string;
  readonly key?: string;
  readonly csr?: string;
  readonly out?: string;
  readonly force?: boolean;
}

function loadCa(caDir: string): Issuer {
  const hint = `create one with: fsm-certs ca create --out ${caDir}`;
  const certPem = readInput(path.join(caDir, 'ca.crt'), 'CA certificate', hint);
  const keyPem = readInput(path.join(caDir, 'private.key'), 'CA private key', hint);
  try {
    return loadIssuer(certPem, keyPem);
  } catch (error) {
    if (isX509Error(error)) throw new CliInputError(`CA in ${caDir} is unusable: ${error.message}`, { cause: error });
    throw error;
  }
}

export function certCreate(args: CertCreateArgs, print: (line: string) => void): void {
  const commonName = requiredOption('CN', args.commonName, 'bookstore-v2.bookstore.cluster.local');
  const caDir = requiredOption('--ca-dir', args.caDir, 'ca/');
  const out = requiredOption('--out', args.out, 'certs/bookstore/');
  const validityMs = durationOption('--validity', args.validity, '24h');
  const keyAlgorithm = keyAlgorithmOption(args.key);
  const issuer = loadCa(caDir);
  let publicKey;
  if (args.csr !== undefined) {
    const csrPem = readInput(args.csr, 'CSR', 'pass the path of a PEM certificate request');
    try {
      publicKey = parseCsr(csrPem).publicKey;
    } catch (error) {
      if (isX509Error(error)) throw new CliInputError(`CSR ${args.csr} rejected: ${error.message}`, { cause: error });
      throw error;
    }
  }
  const files = { cert: path.join(out, 'cert.pem'), key: path.join(out, 'key.pem'), ca: path.join(out, 'ca.pem') };
  refuseOverwrite(publicKey === undefined ? [files.cert, files.key, files.ca] : [files.cert, files.ca], args.force === true);
  let leaf;
  try {
    // With a CSR only its key is used: the identity is what the operator typed here.
    leaf = issueLeaf(issuer, { commonName, ...splitSans(args.san ?? []), validityMs, ...(publicKey === undefined ? { keyAlgorithm } : { publicKey }) });
  } catch (error) {
    if (isX509Error(error)) throw new CliInputError(error.message, { cause: error });
    throw error;
  }
  ensureOutDir(out);
  writePublic(files.cert, leaf.certificatePem);
  writePublic(files.ca, issuer.certificatePem);
  const written = [files.cert, files.ca];
  if (leaf.privateKeyPem !== undefined) {
    writePrivate(files.key, leaf.privateKeyPem);
    written.splice(1, 0, files.key);
  }
  print(`wrote ${written.join(', ')} (CN=${commonName}, serial=${leaf.serialNumber}, notAfter=${formatOpensslDate(leaf.notAfter)})`);
}
