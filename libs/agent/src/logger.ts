// What the agent logs through: pino's call shape (fields first, then the message), so a pino
// logger can be passed as it is; the CLI uses jsonLineLogger. Fields never hold a key or token.

export interface AgentLogger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const RANK: Readonly<Record<LogLevel, number>> = { debug: 20, info: 30, warn: 40, error: 50, silent: 100 };

export const silentLogger: AgentLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** One JSON object per line (`{"level","time","msg",...fields}`), the shape log collectors parse. */
export function jsonLineLogger(write: (line: string) => void, options: { level?: LogLevel; now?: () => number; name?: string } = {}): AgentLogger {
  const min = RANK[options.level ?? 'info'];
  const now = options.now ?? Date.now;
  const log =
    (level: Exclude<LogLevel, 'silent'>) =>
    (fields: Record<string, unknown>, message: string): void => {
      if (RANK[level] < min) return;
      write(`${JSON.stringify({ level, time: new Date(now()).toISOString(), name: options.name ?? 'fsm-certs-agent', msg: message, ...fields })}\n`);
    };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}
