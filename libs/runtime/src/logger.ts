// Structured JSON logs for every service process, and for every component it wires (queues,
// providers, the gateway): one logger per process, passed down. Anything that could carry key
// material, a token or a CSR is redacted by path, so a careless `log.info({ item })` cannot leak it.
import os from 'node:os';
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

/** Paths pino censors wherever they appear (two levels deep, plus arrays of items). */
export const REDACT_PATHS: readonly string[] = [
  'privateKey',
  'privateKeyPem',
  'encryptedPrivateKey',
  'csr',
  'csrPem',
  'token',
  'kek',
  'authorization',
  'password',
  '*.privateKey',
  '*.privateKeyPem',
  '*.encryptedPrivateKey',
  '*.csr',
  '*.csrPem',
  '*.token',
  '*.kek',
  '*.authorization',
  '*.password',
  'requests[*].csrPem',
  'item.csrPem',
  'record.encryptedPrivateKey',
  'record.csrPem',
  'req.headers.authorization',
  'headers.authorization',
  'headers["x-vault-token"]',
  '*.headers.authorization',
  '*.headers["x-vault-token"]',
  'config.vault.token',
  'config.worker.keyEncryptionKey',
];

/** Identifies one process among replicas: heartbeat member, BullMQ worker name, log field. */
export function instanceId(service: string): string {
  return `${service}@${os.hostname()}:${process.pid}`;
}

export interface LoggerOptions {
  readonly service: string;
  /** Default `info`; `LOG_LEVEL` in the environment is the usual source. */
  readonly level?: LevelWithSilent;
  /** Where lines go; default stdout. Tests pass a stream to inspect output. */
  readonly destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const settings = {
    level: options.level ?? 'info',
    base: { service: options.service, pid: process.pid, hostname: os.hostname() },
    redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return options.destination === undefined ? pino(settings) : pino(settings, options.destination);
}

const LEVELS: readonly LevelWithSilent[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function isLevel(value: string): value is LevelWithSilent {
  return (LEVELS as readonly string[]).includes(value);
}

/** Reads LOG_LEVEL, falling back to `info` for anything unknown rather than failing the start. */
export function logLevelFromEnv(env: NodeJS.ProcessEnv): LevelWithSilent {
  const raw = env['LOG_LEVEL']?.toLowerCase();
  return raw !== undefined && isLevel(raw) ? raw : 'info';
}
