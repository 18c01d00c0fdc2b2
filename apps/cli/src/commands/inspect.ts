// fsm-certs inspect FILE [--json] [--dates]: what `openssl x509 -text -noout` / `-dates` tell an
// operator, for every certificate in a PEM file (a bundle prints each in order).
import { formatInspection, inspectCertificate, isX509Error, splitPemBundle } from '@fsm-certs/x509';
import type { CertificateInfo } from '@fsm-certs/x509';
import { CliInputError } from '../errors.js';
import { readInput } from '../files.js';
import { requiredOption } from '../options.js';

export interface InspectArgs {
  readonly file?: string;
  readonly json?: boolean;
  readonly dates?: boolean;
}

export function inspect(args: InspectArgs, print: (text: string) => void): void {
  const file = requiredOption('FILE', args.file, 'ca.crt');
  const text = readInput(file, 'certificate file', 'pass the path of a PEM certificate');
  let infos: CertificateInfo[];
  try {
    const blocks = splitPemBundle(text);
    if (blocks.length === 0) throw new CliInputError(`${file} holds no "-----BEGIN CERTIFICATE-----" block`);
    infos = blocks.map((pem) => inspectCertificate(pem));
  } catch (error) {
    if (isX509Error(error)) throw new CliInputError(`${file}: ${error.message}`, { cause: error });
    throw error;
  }
  if (args.json === true) {
    const shown = args.dates === true ? infos.map((i) => ({ notBefore: i.notBefore, notAfter: i.notAfter })) : infos;
    print(`${JSON.stringify(shown.length === 1 ? shown[0] : shown, null, 2)}\n`);
    return;
  }
  print(infos.map((info) => formatInspection(info, { dates: args.dates === true })).join('\n'));
}
