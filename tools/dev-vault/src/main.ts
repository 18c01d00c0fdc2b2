// npm run dev:vault [-- --emulator [--https]] [--port N] [--token T] [--role R]
// Composition root: parse flags, start + bootstrap, print the export lines, run until Ctrl-C.
import { parseArgs } from 'node:util';
import { exportLines, startDevVault } from './dev-vault.js';

const USAGE = `Usage: npm run dev:vault -- [--emulator] [--https] [--port 8200] [--token xyz] [--role fsm]
Starts a Vault — VAULT_ADDR+VAULT_TOKEN from the environment, else a container runtime's
hashicorp/vault, else a local bao/vault binary (OpenBao: tools/test-tools/install-openbao.sh),
else the in-repo emulator (--emulator: the emulator only) — applies deploy-vault.sh's PKI setup,
prints the export lines and runs until Ctrl-C.`;

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        emulator: { type: 'boolean' },
        https: { type: 'boolean' },
        port: { type: 'string' },
        token: { type: 'string' },
        role: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    process.stderr.write(`dev-vault: ${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
    return 2;
  }
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const port = Number(values.port ?? '8200');
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`dev-vault: --port must be 0-65535, got "${values.port ?? ''}"\n`);
    return 2;
  }
  const role = values.role ?? 'fsm';
  const out = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  let vault;
  try {
    vault = await startDevVault({ mode: values.emulator === true ? 'emulator' : 'auto', port, token: values.token ?? 'xyz', role, https: values.https === true, out });
  } catch (error) {
    process.stderr.write(`dev-vault: ${error instanceof Error ? error.message : String(error)}\n`);
    const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
    if (code === 'EADDRINUSE') process.stderr.write('Port in use: pass --port 0 for any free port.\n');
    return 3;
  }
  out('');
  for (const line of exportLines(vault, role)) out(line);
  out('');
  out('Vault is running; press Ctrl-C to stop it.');
  const running = vault;
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await running.stop();
  out('dev-vault: stopped');
  return 0;
}

process.exitCode = await main();
