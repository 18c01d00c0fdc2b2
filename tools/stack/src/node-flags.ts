// The node flags every app runs with, from the one file the image's entry point reads too
// (deploy/docker/node-flags), so `npm start`, the end-to-end suites and the benchmarks run the
// apps as the image does. FSM_NODE_FLAGS, when set (even empty), replaces them, as in the image.
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The file's words, comments (`#` to the end of a line) dropped: what entrypoint.sh passes. */
export function parseNodeFlags(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.replace(/#.*/, ''))
    .join(' ')
    .split(/\s+/)
    .filter((word) => word !== '');
}

export function nodeFlagsFile(root: string): string {
  return path.join(root, 'deploy', 'docker', 'node-flags');
}

/** The flags for an app with environment `env`, in a checkout at `root`. */
export function nodeFlags(root: string, env: NodeJS.ProcessEnv): string[] {
  const override = env['FSM_NODE_FLAGS'];
  if (override !== undefined) return parseNodeFlags(override);
  return parseNodeFlags(readFileSync(nodeFlagsFile(root), 'utf8'));
}
