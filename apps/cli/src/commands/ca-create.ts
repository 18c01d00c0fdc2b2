// fsm-certs ca create --out DIR [--key ALG] [--validity 87600h] [--force]
// Writes ca.crt and private.key: the data keys of the fsm-ca-bundle secret.
import path from 'node:path';
import { createRootCa, formatOpensslDate } from '@fsm-certs/x509';
import { ensureOutDir, refuseOverwrite, writePrivate, writePublic } from '../files.js';
import { durationOption, keyAlgorithmOption, requiredOption } from '../options.js';

export interface CaCreateArgs {
  readonly out?: string;
  readonly key?: string;
  readonly validity?: string;
  readonly force?: boolean;
}

export function caCreate(args: CaCreateArgs, print: (line: string) => void): void {
  const out = requiredOption('--out', args.out, 'ca/');
  const keyAlgorithm = keyAlgorithmOption(args.key);
  const validityMs = durationOption('--validity', args.validity, '87600h');
  const certFile = path.join(out, 'ca.crt');
  const keyFile = path.join(out, 'private.key');
  refuseOverwrite([certFile, keyFile], args.force === true);
  const root = createRootCa({ keyAlgorithm, validityMs });
  ensureOutDir(out);
  writePublic(certFile, root.certificatePem);
  writePrivate(keyFile, root.privateKeyPem);
  print(`wrote ${certFile} and ${keyFile} (${keyAlgorithm}, CN=${root.issuer.subjectCommonName}, notAfter=${formatOpensslDate(root.issuer.notAfter)})`);
}
