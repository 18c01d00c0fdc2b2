// The node flags every app runs with, from the file the image's entry point reads
// (deploy/docker/node-flags), so `npm start`, the end-to-end suites and the benchmarks run the
// apps as the image does. FSM_NODE_FLAGS, when set (even empty), replaces them, as in the image:
// it is how a benchmark weighs other runtime flags, or node's defaults (FSM_NODE_FLAGS=''),
// against these. Node refuses such V8 flags in NODE_OPTIONS, hence node's command line.
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The words of a flags text, `#` to the end of a line dropped: what entrypoint.sh passes. */
export function parseNodeFlags(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.replace(/#.*/, ''))
    .join(' ')
    .split(/\s+/)
    .filter((word) => word !== '');
}

/** The flags file of the checkout at `root`. */
export function nodeFlagsFile(root: string): string {
  return path.join(root, 'deploy', 'docker', 'node-flags');
}

/** The flags for an app with environment `env`, in the checkout at `root`. */
export function nodeFlags(root: string, env: NodeJS.ProcessEnv): string[] {
  const override = env['FSM_NODE_FLAGS'];
  if (override !== undefined) return parseNodeFlags(override);
  return parseNodeFlags(readFileSync(nodeFlagsFile(root), 'utf8'));
}
