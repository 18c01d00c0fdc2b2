export { loadConfig } from './load.js';
export type { LoadConfigOptions } from './load.js';
export { ENV_BINDINGS, fsmConfigSchema } from './schema.js';
export type { FsmConfig, FsmConfigInput } from './schema.js';
export { ConfigError } from './errors.js';
export type { ConfigErrorCode } from './errors.js';
export { parseGoDurationMs } from './duration.js';
export { CONFIG_KEY_ALGORITHMS, PROVIDER_KINDS } from './sections/certificate-provider.js';
export type { EnvBinding } from './sections/env-binding.js';
