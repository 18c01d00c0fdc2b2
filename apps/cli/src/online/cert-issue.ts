// fsm-certs cert issue CN --out DIR [--san NAME]... [--validity 24h] [--key ALG] [--csr FILE] [--spiffe] [--force]
// Asks the gateway (POST /v1/certificates) and writes cert.pem, key.pem, ca.pem, chain.pem.
import type { IssueCertificateInput } from '@fsm-certs/client';
import { readInput } from '../files.js';
import { durationOption, keyAlgorithmOption, requiredOption } from '../options.js';
import { checkCertFilesFree, writeCertFiles } from './cert-files.js';
import type { Gateway } from './gateway.js';

export interface CertIssueArgs {
  readonly commonName?: string | undefined;
  readonly out?: string | undefined;
  readonly san?: readonly string[] | undefined;
  readonly validity?: string | undefined;
  readonly key?: string | undefined;
  readonly csr?: string | undefined;
  readonly spiffe?: boolean | undefined;
  readonly force?: boolean | undefined;
}

/** Checks the flags and builds the request body; every mistake is found before the network. */
export function buildIssueRequest(args: CertIssueArgs): { out: string; body: IssueCertificateInput } {
  const commonName = requiredOption('CN', args.commonName, 'bookstore-v2.bookstore.cluster.local');
  const out = requiredOption('--out', args.out, 'certs/bookstore/');
  // Parsed here only to refuse a typo with exit 2; the gateway gets the operator's own spelling.
  if (args.validity !== undefined) durationOption('--validity', args.validity, '24h');
  const keyAlgorithm = args.key === undefined ? undefined : keyAlgorithmOption(args.key);
  const csr = args.csr === undefined ? undefined : readInput(args.csr, 'CSR', 'pass the path of a PEM certificate request');
  const body: IssueCertificateInput = {
    commonName,
    ...(args.san === undefined || args.san.length === 0 ? {} : { sans: [...args.san] }),
    ...(args.validity === undefined ? {} : { validity: args.validity }),
    ...(keyAlgorithm === undefined ? {} : { keyAlgorithm }),
    ...(csr === undefined ? {} : { csr }),
    ...(args.spiffe === true ? { spiffe: true } : {}),
  };
  return { out, body };
}

export async function certIssue(gateway: Gateway, args: CertIssueArgs, print: (line: string) => void): Promise<void> {
  const { out, body } = buildIssueRequest(args);
  checkCertFilesFree(out, body.csr === undefined, args.force === true);
  const cert = await gateway.call((client) => client.issue(body));
  const files = writeCertFiles(out, cert);
  const written = [files.cert, ...(files.key === undefined ? [] : [files.key]), files.ca, files.chain];
  print(`wrote ${written.join(', ')} (CN=${cert.commonName}, serial=${cert.serialNumber}, notAfter=${cert.notAfter}, renewAt=${cert.renewAt})`);
  for (const warning of cert.warnings ?? []) print(`warning: ${warning}`);
}
