// Test fixtures only: never import this lib from an app.
export * from './kubernetes/index.js';
