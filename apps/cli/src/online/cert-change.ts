// fsm-certs cert rotate CN [--out DIR [--force]] | cert release CN: re-issue now with the stored
// parameters, or remove the name from the inventory (it is no longer renewed).
import { requiredOption } from '../options.js';
import { checkCertFilesFree, writeCertFiles } from './cert-files.js';
import type { Gateway } from './gateway.js';

export interface CertRotateArgs {
  readonly commonName?: string | undefined;
  readonly out?: string | undefined;
  readonly force?: boolean | undefined;
}

export async function certRotate(gateway: Gateway, args: CertRotateArgs, print: (line: string) => void): Promise<void> {
  const commonName = requiredOption('CN', args.commonName, 'bookstore-v2.bookstore.cluster.local');
  // A server-generated key comes back only in this answer: --out keeps it; checked up front.
  if (args.out !== undefined) checkCertFilesFree(args.out, true, args.force === true);
  const cert = await gateway.call((client) => client.rotate(commonName));
  let wrote = '';
  if (args.out !== undefined) {
    const files = writeCertFiles(args.out, cert);
    wrote = `; wrote ${[files.cert, ...(files.key === undefined ? [] : [files.key]), files.ca, files.chain].join(', ')}`;
  }
  print(`rotated ${cert.commonName}: serial=${cert.serialNumber}, notAfter=${cert.notAfter}, renewAt=${cert.renewAt}${wrote}`);
  for (const warning of cert.warnings ?? []) print(`warning: ${warning}`);
}

export async function certRelease(gateway: Gateway, args: { commonName?: string | undefined }, print: (line: string) => void): Promise<void> {
  const commonName = requiredOption('CN', args.commonName, 'bookstore-v2.bookstore.cluster.local');
  await gateway.call((client) => client.release(commonName));
  print(`released ${commonName}: removed from the inventory, no longer renewed`);
}
