export * from './app-process.js';
export * from './stack.js';

