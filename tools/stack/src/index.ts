export * from './app-process.js';
export * from './errors.js';
export * from './stack.js';
export * from './supervisor.js';
