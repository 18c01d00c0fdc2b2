export * from './schemas.js';
export * from './errors.js';
export * from './gateway-client.js';
export * from './sse.js';
