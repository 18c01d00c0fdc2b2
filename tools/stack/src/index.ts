export * from './admin-token.js';
export * from './app-process.js';
export * from './errors.js';
export * from './node-flags.js';
export * from './stack.js';
export * from './supervisor.js';
