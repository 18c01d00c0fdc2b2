// Public API of @fsm-certs/core: the facts every package shares, each defined here once.
export { FsmError, isFsmError, CoreError, type CoreErrorCode, type FsmErrorInit } from './errors.js';
export { parseDuration, parseDurationMs, formatDuration, GO_DURATION_PATTERN } from './duration.js';
export { systemClock, defaultRandom, type Clock, type RandomSource } from './clock.js';
export { randomUuid } from './uuid.js';
export { withTimeout } from './timeout.js';
export {
  KEY_ALGORITHMS,
  DEFAULT_KEY_ALGORITHM,
  RSA_PUBLIC_EXPONENT,
  LEAF_EXTENDED_KEY_USAGES,
  isKeyAlgorithm,
  keyFamilyOf,
  rsaModulusBits,
  leafKeyUsages,
  type KeyAlgorithm,
  type KeyFamily,
  type KeyUsage,
} from './key-algorithm.js';
