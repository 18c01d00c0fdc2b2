export { EXIT, exitCodeFor, runBootstrap } from './run.js';
export type { RunDeps } from './run.js';
export { USAGE, parseBootstrapArgs } from './args.js';
