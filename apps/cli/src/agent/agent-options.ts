// `fsm-certs agent` flags → the agent's options. Every mistake is one line naming the flag,
// found before anything is written or requested (exit 2).
import path from 'node:path';
import { isSignalName, KEY_MODES, type AgentOptions, type KeyMode, type LogLevel, type ReloadHook } from '@fsm-certs/agent';
import { CliInputError } from '../errors.js';
import { durationOption, keyAlgorithmOption, requiredOption } from '../options.js';

/** Where /healthz listens unless --health-addr says otherwise: loopback, for the pod's own probes. */
export const DEFAULT_HEALTH_ADDR = '127.0.0.1:9097';

export interface AgentFlags {
  readonly dir?: string | undefined;
  readonly name?: string | undefined;
  readonly san?: readonly string[] | undefined;
  readonly spiffe?: boolean | undefined;
  readonly 'key-mode'?: string | undefined;
  readonly key?: string | undefined;
  readonly validity?: string | undefined;
  readonly 'reload-cmd'?: string | undefined;
  readonly 'reload-signal'?: string | undefined;
  readonly 'reload-pid'?: string | undefined;
  readonly 'reload-pid-file'?: string | undefined;
  readonly 'health-addr'?: string | undefined;
  readonly 'log-level'?: string | undefined;
}

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

export function keyModeOption(value: string | undefined): KeyMode {
  if (value === undefined) return 'csr';
  const found = KEY_MODES.find((mode) => mode === value);
  if (found === undefined) throw new CliInputError(`--key-mode ${JSON.stringify(value)} is not supported; use csr (the key never leaves the pod) or server`);
  return found;
}

export function logLevelOption(value: string | undefined): LogLevel {
  if (value === undefined) return 'info';
  const found = LOG_LEVELS.find((level) => level === value);
  if (found === undefined) throw new CliInputError(`--log-level ${JSON.stringify(value)} is not one of ${LOG_LEVELS.join(', ')}`);
  return found;
}

/** `HOST:PORT` (`[::1]:9097` for IPv6), or `none` for no health server. */
export function healthAddrOption(value: string | undefined): { host: string; port: number } | undefined {
  const text = value ?? DEFAULT_HEALTH_ADDR;
  if (text === 'none') return undefined;
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  const host = match?.[1] ?? match?.[2];
  if (match === null || host === undefined || !Number.isInteger(port) || port > 65_535) {
    throw new CliInputError(`--health-addr ${JSON.stringify(text)} must be HOST:PORT (e.g. ${DEFAULT_HEALTH_ADDR}, [::1]:9097, 0.0.0.0:9097) or none`);
  }
  return { host, port };
}

export function reloadOption(flags: AgentFlags, cwd: string): ReloadHook | undefined {
  const command = flags['reload-cmd'];
  const signalText = flags['reload-signal'];
  const pidText = flags['reload-pid'];
  const pidFile = flags['reload-pid-file'];
  if (command !== undefined) {
    if (signalText !== undefined || pidText !== undefined || pidFile !== undefined) {
      throw new CliInputError('--reload-cmd cannot be combined with --reload-signal / --reload-pid / --reload-pid-file; choose one way to reload');
    }
    if (command.trim() === '') throw new CliInputError('--reload-cmd is empty; give the command that makes the workload reload its certificate');
    return { command };
  }
  if (signalText === undefined) {
    if (pidText !== undefined || pidFile !== undefined) throw new CliInputError('--reload-pid and --reload-pid-file need --reload-signal (e.g. --reload-signal SIGHUP)');
    return undefined;
  }
  const signal = signalText.toUpperCase().startsWith('SIG') ? signalText.toUpperCase() : `SIG${signalText.toUpperCase()}`;
  if (!isSignalName(signal)) throw new CliInputError(`--reload-signal ${JSON.stringify(signalText)} is not a signal name; use e.g. SIGHUP or SIGUSR1`);
  if ((pidText === undefined) === (pidFile === undefined)) throw new CliInputError('--reload-signal needs exactly one of --reload-pid PID and --reload-pid-file FILE');
  if (pidFile !== undefined) return { signal, pidFile: path.resolve(cwd, pidFile) };
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid < 2) throw new CliInputError(`--reload-pid ${JSON.stringify(pidText)} must be a process id (a whole number above 1)`);
  return { signal, pid };
}

/** Everything but the connection (gateway URL, token, CA), which connection.ts resolves. */
export function agentOptionsFromFlags(flags: AgentFlags, cwd: string): Omit<AgentOptions, 'gatewayUrl' | 'token' | 'tokenFile'> {
  const dir = requiredOption('--dir', flags.dir, '/var/run/fsm-certs');
  const commonName = requiredOption('--name', flags.name, 'bookstore-v2.bookstore.cluster.local');
  // Checked here so a typo is exit 2 at once; the gateway gets the operator's own spelling.
  if (flags.validity !== undefined) durationOption('--validity', flags.validity, '24h');
  const reload = reloadOption(flags, cwd);
  const health = healthAddrOption(flags['health-addr']);
  return {
    dir: path.resolve(cwd, dir),
    commonName,
    ...(flags.san === undefined || flags.san.length === 0 ? {} : { sans: [...flags.san] }),
    ...(flags.spiffe === true ? { spiffe: true } : {}),
    keyMode: keyModeOption(flags['key-mode']),
    keyAlgorithm: keyAlgorithmOption(flags.key),
    ...(flags.validity === undefined ? {} : { validity: flags.validity }),
    ...(reload === undefined ? {} : { reload }),
    ...(health === undefined ? {} : { health }),
  };
}
