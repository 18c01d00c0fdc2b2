// The logger the Vault code writes to: pino-compatible (object first, message second). Tokens
// and request bodies (CSRs, keys) are never passed to it.
export interface VaultLogger {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

export const silentLogger: VaultLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
