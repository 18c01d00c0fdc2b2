#!/usr/bin/env node
// The image's one entry point: `app.mjs <app> [arguments...]` runs that app's build output in
// this process, so one image serves every Deployment (`args: [ca-service]`) and compose service.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The apps the image runs, by the name given as the first argument. */
export const APPS = ['ca-service', 'issuer-gateway', 'rotation-worker', 'vault-bootstrap', 'cli'];

/**
 * Names that run a command of one of the apps: `app.mjs agent --dir /certs ...` is the workload
 * agent sidecar, `fsm-certs agent --dir /certs ...` (docs/agent.md).
 */
export const COMMANDS = { agent: { app: 'cli', args: ['agent'] } };

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function entryPoint(app) {
  return path.join(root, 'apps', app, 'dist', 'main.js');
}

function usage() {
  return `usage: app.mjs <${[...APPS, ...Object.keys(COMMANDS)].join('|')}> [arguments...]\n`;
}

async function main() {
  const [app, ...rest] = process.argv.slice(2);
  if (app === '--help' || app === '-h') {
    process.stdout.write(usage());
    return;
  }
  const command = app === undefined ? undefined : Object.hasOwn(COMMANDS, app) ? COMMANDS[app] : APPS.includes(app) ? { app, args: [] } : undefined;
  if (command === undefined) {
    process.stderr.write(`${app === undefined ? 'no app given' : `unknown app "${app}"`}; ${usage()}`);
    process.exitCode = 2;
    return;
  }
  const entry = entryPoint(command.app);
  // The app sees itself as the main script: [node, apps/<app>/dist/main.js, ...its arguments]
  // (vault-bootstrap and the cli read their flags from process.argv.slice(2)).
  process.argv = [process.argv[0] ?? 'node', entry, ...command.args, ...rest];
  await import(pathToFileURL(entry).href);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
