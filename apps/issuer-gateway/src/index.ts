// The app exports its config mapping for tests and tooling; main.ts is the entry point.
export { appOptions, configuredKek, type GatewaySettings } from './options.js';
