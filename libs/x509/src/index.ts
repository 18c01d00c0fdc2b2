// Public API of @fsm-certs/x509: keys, CSRs, the root CA, leaf issuance, inspection, chain
// verification, PEM/DER helpers. Durations and key algorithms are @fsm-certs/core's.
export * from './types.js';
export { X509Error, isX509Error, type X509ErrorOptions } from './errors.js';
export { generateKeyPair, generateKeyPairOffThread, exportPrivateKeyDer, exportPrivateKeyPem, importPrivateKeyPem, keyAlgorithmOf } from './keys.js';
export { createCsr, parseCsr, type CreateCsrOptions } from './csr.js';
export { readCsrRequestedExtensions, KEY_USAGE_BIT_NAMES, type CsrRequestedExtensions, type KeyUsageBitName } from './csr-extensions.js';
export {
  createRootCa, DEFAULT_ROOT_COMMON_NAME, DEFAULT_ROOT_ORGANIZATION, DEFAULT_ROOT_VALIDITY_MS, BACKDATE_MS,
} from './root-ca.js';
export { loadIssuer } from './issuer.js';
export { issueLeaf, MIN_LEAF_VALIDITY_MS } from './leaf.js';
export { inspectCertificate, formatInspection, formatOpensslDate } from './inspect.js';
export { certificateFacts, type CertificateFacts } from './facts.js';
export { verifyChain, type VerifyChainOptions } from './verify-chain.js';
export { splitPemBundle, pemToDer, derToPem, fingerprintSha256 } from './pem.js';
export { isValidDnsName, buildSpiffeId } from './names.js';
export { pooledRandomBytes, pooledRandomUint } from './random-pool.js';
