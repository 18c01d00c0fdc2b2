// Public API of @fsm-certs/runtime: the process plumbing every service app shares — the
// redacting logger, one exit-code policy for start-up failures, the shutdown budget with
// cancellation, readiness checks, the metrics registry, binding and closing a listener, the health server, and runService(),
// the skeleton that wires them around an app's own start function.
export * from './logger.js';
export * from './startup.js';
export * from './shutdown.js';
export * from './readiness.js';
export * from './metrics.js';
export * from './listen.js';
export * from './health-server.js';
export * from './service.js';
