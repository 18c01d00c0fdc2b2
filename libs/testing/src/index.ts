// Test fixtures only: never import this lib from an app.
export * from './kubernetes/index.js';
export * from './kubernetes/cert-manager/index.js';
export * from './vault/index.js';
export * from './openssl/openssl.js';
export * from './eventually.js';
