// The offline commands (no server): ca create, cert create, inspect.
import { caCreate } from './commands/ca-create.js';
import { certCreate } from './commands/cert-create.js';
import { inspect } from './commands/inspect.js';
import type { CliIo } from './io.js';
import type { ParsedCommand } from './run.js';

export async function runOffline(command: ParsedCommand, io: CliIo): Promise<void> {
  const { flags: values, operands } = command;
  const line = (text: string): void => io.stdout(`${text}\n`);
  switch (command.name) {
    case 'ca create':
      return caCreate({ ...(values.out === undefined ? {} : { out: values.out }), key: values.key, validity: values.validity, force: values.force }, line);
    case 'cert create':
      return certCreate(
        { commonName: operands[0], caDir: values['ca-dir'], san: values.san ?? [], validity: values.validity, key: values.key, csr: values.csr, out: values.out, force: values.force },
        line,
      );
    case 'inspect':
      return inspect({ file: operands[0], json: values.json, dates: values.dates }, io.stdout);
    default:
      throw new Error(`no offline command "${command.name}"`);
  }
}
