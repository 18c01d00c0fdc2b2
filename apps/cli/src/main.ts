#!/usr/bin/env node
// fsm-certs: the operator CLI. A composition root only: parse arguments, run one command module,
// map failures to exit codes (2 = bad input, 1 = unexpected).
import { parseArgs } from 'node:util';
import { ConfigError } from '@fsm-certs/config';
import { caCreate } from './commands/ca-create.js';
import { certCreate } from './commands/cert-create.js';
import { inspect } from './commands/inspect.js';
import { CliInputError } from './errors.js';

const HELP = `fsm-certs — certificate management for the service mesh (offline commands)

Usage:
  fsm-certs ca create --out DIR [--key ALG] [--validity 87600h] [--force]
      Create a self-signed root CA: DIR/ca.crt and DIR/private.key (0600), the fsm-ca-bundle shape.
  fsm-certs cert create CN --ca-dir DIR --out DIR [--san NAME]... [--validity 24h] [--key ALG] [--csr FILE] [--force]
      Issue a leaf for CN signed by the CA in --ca-dir: cert.pem, key.pem (not with --csr), ca.pem.
      --san takes DNS names, IP addresses and URIs (spiffe://...); with --csr only the CSR's key is used.
  fsm-certs inspect FILE [--json] [--dates]
      Show subject, issuer, serial, validity, SANs, key and SHA-256 fingerprint (like openssl x509 -text).
  fsm-certs demo [--out DIR]
      Start Tresor on the file store, issue a service certificate and print both inspections.

Options:
  --key ALG        ecdsa-p256 (default), rsa-2048, rsa-3072, rsa-4096
  --validity DUR   Go duration: 24h, 1h30m, 1.5h, 87600h
  -h, --help       this text

Exit codes: 0 success, 2 bad input (missing CA, bad duration, bad CSR, unknown option), 1 unexpected error.
`;

function run(argv: readonly string[], print: (text: string) => void): Promise<void> | void {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        out: { type: 'string' },
        key: { type: 'string' },
        validity: { type: 'string' },
        'ca-dir': { type: 'string' },
        san: { type: 'string', multiple: true },
        csr: { type: 'string' },
        json: { type: 'boolean' },
        dates: { type: 'boolean' },
        force: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new CliInputError(`${(error as Error).message}; see fsm-certs --help`, { cause: error });
  }
  const { values, positionals } = parsed;
  const [command, sub, ...rest] = positionals;
  if (values.help === true || command === undefined || command === 'help') {
    print(HELP);
    return;
  }
  const line = (text: string): void => print(`${text}\n`);
  if (command === 'ca' && sub === 'create' && rest.length === 0) {
    return caCreate({ ...(values.out === undefined ? {} : { out: values.out }), key: values.key, validity: values.validity, force: values.force }, line);
  }
  if (command === 'cert' && sub === 'create' && rest.length <= 1) {
    return certCreate(
      { commonName: rest[0], caDir: values['ca-dir'], san: values.san ?? [], validity: values.validity, key: values.key, csr: values.csr, out: values.out, force: values.force },
      line,
    );
  }
  if (command === 'inspect' && rest.length === 0) {
    return inspect({ file: sub, json: values.json, dates: values.dates }, print);
  }
  if (command === 'demo' && sub === undefined) {
    // Loaded on demand: the providers (and the Kubernetes client) are heavy for offline commands.
    return import('./commands/demo.js').then(({ demo }) => demo(values.out === undefined ? {} : { out: values.out }, print));
  }
  throw new CliInputError(`unknown command "${positionals.join(' ')}"; see fsm-certs --help`);
}

try {
  await run(process.argv.slice(2), (text) => process.stdout.write(text));
} catch (error) {
  if (error instanceof CliInputError || error instanceof ConfigError) {
    process.stderr.write(`fsm-certs: ${error.message}\n`);
    process.exitCode = 2;
  } else {
    const code = (error as { code?: unknown }).code;
    process.stderr.write(`fsm-certs: ${typeof code === 'string' ? `${code}: ` : ''}${(error as Error).message}\n`);
    process.exitCode = (error as { httpStatus?: unknown }).httpStatus === 400 ? 2 : 1;
  }
}
