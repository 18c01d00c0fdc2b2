// Argument parsing and dispatch: argv in, exit code out. Each command names the flags it takes, so
// `cert get X --out d` is refused instead of silently ignored.
// Operators call the CLI in loops, so start-up matters: only node:util and the help text load up
// front; zod, the config and client libs, x509 and the providers load with the command (or the
// failure report) that needs them.
import { parseArgs } from 'node:util';
import type { Connection } from './connection.js';
import { CliInputError, EXIT } from './errors.js';
import { readInput } from './files.js';
import { HELP } from './help.js';
import type { CliIo } from './io.js';

const OPTIONS = {
  out: { type: 'string' },
  key: { type: 'string' },
  validity: { type: 'string' },
  'ca-dir': { type: 'string' },
  san: { type: 'string', multiple: true },
  csr: { type: 'string' },
  json: { type: 'boolean' },
  dates: { type: 'boolean' },
  force: { type: 'boolean' },
  spiffe: { type: 'boolean' },
  limit: { type: 'string' },
  from: { type: 'string' },
  count: { type: 'string' },
  'root-days': { type: 'string' },
  'root-warn': { type: 'string' },
  auto: { type: 'boolean' },
  propagation: { type: 'string' },
  spread: { type: 'string' },
  grace: { type: 'string' },
  server: { type: 'string' },
  token: { type: 'string' },
  ca: { type: 'string' },
  gateway: { type: 'string' },
  'token-file': { type: 'string' },
  dir: { type: 'string' },
  name: { type: 'string' },
  'key-mode': { type: 'string' },
  'ca-file': { type: 'string' },
  'reload-cmd': { type: 'string' },
  'reload-signal': { type: 'string' },
  'reload-pid': { type: 'string' },
  'reload-pid-file': { type: 'string' },
  'health-addr': { type: 'string' },
  'log-level': { type: 'string' },
  caller: { type: 'string' },
  since: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export type Flags = ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; strict: true; options: typeof OPTIONS }>>['values'];
type FlagName = keyof typeof OPTIONS;

export interface ParsedCommand {
  /** e.g. "cert issue". */
  readonly name: string;
  /** Positionals after the command words (CN, FILE). */
  readonly operands: readonly string[];
  readonly flags: Flags;
}

interface CommandSpec {
  readonly words: readonly string[];
  readonly operands: number;
  readonly flags: readonly FlagName[];
  readonly online: boolean;
}

const CONNECTION_FLAGS: readonly FlagName[] = ['server', 'token', 'ca'];

export const COMMANDS: readonly CommandSpec[] = [
  { words: ['ca', 'create'], operands: 0, flags: ['out', 'key', 'validity', 'force'], online: false },
  { words: ['cert', 'create'], operands: 1, flags: ['ca-dir', 'out', 'san', 'validity', 'key', 'csr', 'force'], online: false },
  { words: ['inspect'], operands: 1, flags: ['json', 'dates'], online: false },
  { words: ['ca', 'show'], operands: 0, flags: ['json'], online: true },
  { words: ['ca', 'dates'], operands: 0, flags: ['json'], online: true },
  { words: ['cert', 'issue'], operands: 1, flags: ['out', 'san', 'validity', 'key', 'csr', 'spiffe', 'force'], online: true },
  { words: ['cert', 'get'], operands: 1, flags: ['json'], online: true },
  { words: ['cert', 'list'], operands: 0, flags: ['limit', 'json'], online: true },
  { words: ['cert', 'rotate'], operands: 1, flags: ['out', 'force'], online: true },
  { words: ['cert', 'release'], operands: 1, flags: [], online: true },
  { words: ['events'], operands: 0, flags: ['from', 'count'], online: true },
  { words: ['check'], operands: 0, flags: ['root-days', 'root-warn', 'grace'], online: true },
  { words: ['ca', 'rotate'], operands: 0, flags: ['auto', 'propagation', 'spread', 'json'], online: true },
  { words: ['ca', 'rotation', 'status'], operands: 0, flags: ['json'], online: true },
  { words: ['ca', 'rotation', 'activate'], operands: 0, flags: ['force', 'json'], online: true },
  { words: ['ca', 'rotation', 'retire'], operands: 0, flags: ['force', 'json'], online: true },
  { words: ['ca', 'rotation', 'pause'], operands: 0, flags: ['json'], online: true },
  { words: ['ca', 'rotation', 'resume'], operands: 0, flags: ['json'], online: true },
  { words: ['ca', 'rotation', 'rollback'], operands: 0, flags: ['force', 'json'], online: true },
  { words: ['audit'], operands: 0, flags: ['name', 'caller', 'since', 'limit', 'json'], online: true },
  // Long-running; finds its gateway itself (--gateway, not --server) and may read its token from a file.
  {
    words: ['agent'],
    operands: 0,
    flags: ['gateway', 'token', 'token-file', 'ca-file', 'dir', 'name', 'san', 'spiffe', 'key-mode', 'key', 'validity', 'reload-cmd', 'reload-signal', 'reload-pid', 'reload-pid-file', 'health-addr', 'log-level'],
    online: false,
  },
];

/** Parses argv into a known command with only the flags it takes; `undefined` means "print help". */
export function parseCommand(argv: readonly string[]): ParsedCommand | undefined {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], allowPositionals: true, strict: true, options: OPTIONS });
  } catch (error) {
    throw new CliInputError(`${(error as Error).message}; see fsm-certs --help`, { cause: error });
  }
  const { values, positionals } = parsed;
  if (values.help === true || positionals.length === 0 || positionals[0] === 'help') return undefined;
  const spec = COMMANDS.find((c) => c.words.every((word, i) => positionals[i] === word));
  if (spec === undefined) throw new CliInputError(`unknown command "${positionals.join(' ')}"; see fsm-certs --help`);
  const name = spec.words.join(' ');
  const operands = positionals.slice(spec.words.length);
  if (operands.length > spec.operands) {
    throw new CliInputError(`${name} takes ${spec.operands === 0 ? 'no arguments' : 'one argument'}, got "${operands.join(' ')}"; see fsm-certs --help`);
  }
  const allowed = new Set<string>([...spec.flags, 'help', ...(spec.online ? CONNECTION_FLAGS : [])]);
  const stray = Object.keys(values).filter((flag) => !allowed.has(flag));
  if (stray.length > 0) {
    throw new CliInputError(`${stray.map((f) => `--${f}`).join(', ')} does not apply to ${name}; see fsm-certs --help`);
  }
  return { name, operands, flags: values };
}

export function isOnline(name: string): boolean {
  return COMMANDS.some((c) => c.online && c.words.join(' ') === name);
}

/** Runs the CLI: never throws; failures are reported on io.stderr and returned as exit codes. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const command = parseCommand(argv);
    if (command === undefined) {
      io.stdout(HELP);
      return EXIT.ok;
    }
    if (command.name === 'agent') {
      const { runAgentCommand } = await import('./agent/agent-command.js');
      return await runAgentCommand(command, io, { relaunchForCa });
    }
    if (!isOnline(command.name)) {
      const { runOffline } = await import('./offline.js');
      await runOffline(command, io);
      return EXIT.ok;
    }
    const { resolveConnection, requireToken } = await import('./connection.js');
    const connection = resolveConnection({ flags: command.flags, env: io.env, cwd: io.cwd });
    if (command.name !== 'ca show' && command.name !== 'ca dates') requireToken(connection, command.name);
    const relaunch = relaunchForCa(connection, io);
    if (relaunch !== undefined) return await relaunch;
    const { runOnline } = await import('./online/dispatch.js');
    return await runOnline(command, connection, io);
  } catch (error) {
    const { describeFailure } = await import('./report.js');
    const report = describeFailure(error);
    io.stderr(report.line);
    return report.exitCode;
  }
}

/**
 * Node's fetch reads extra trusted roots only at process start (NODE_EXTRA_CA_CERTS), so an
 * https gateway signed by the mesh CA is reached by running this command again with it set.
 */
function relaunchForCa(connection: Connection, io: CliIo): Promise<number> | undefined {
  if (!connection.server.startsWith('https:') || connection.caFile === undefined) return undefined;
  if (io.env['FSM_CERTS_TRUSTED_CA'] === connection.caFile) return undefined;
  const pem = readInput(connection.caFile, 'CA file', 'pass --ca with the PEM root(s) of the gateway certificate');
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new CliInputError(`${connection.caFile} holds no "-----BEGIN CERTIFICATE-----" block; pass the PEM root(s) of the gateway certificate`);
  }
  if (io.relaunchTrusting === undefined) {
    throw new CliInputError(`cannot trust ${connection.caFile} from here; run with NODE_EXTRA_CA_CERTS=${connection.caFile} instead`);
  }
  return io.relaunchTrusting(connection.caFile);
}
