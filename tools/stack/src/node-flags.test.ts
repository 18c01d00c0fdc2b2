// The node runtime flags (deploy/docker/node-flags) are one fact: the image's entry point and the
// stack launcher both run every app with them, and FSM_NODE_FLAGS replaces them in both.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AppProcess, repoRoot } from './app-process.js';
import { nodeFlags, nodeFlagsFile, parseNodeFlags } from './node-flags.js';

const root = repoRoot();
const shipped = parseNodeFlags(readFileSync(nodeFlagsFile(root), 'utf8'));
const temp: string[] = [];
afterAll(() => temp.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** The image's deploy/docker beside a fake ca-service build that prints how node was started. */
function fakeImage(): string {
  const image = mkdtempSync(path.join(tmpdir(), 'fsm-certs-entry-'));
  temp.push(image);
  cpSync(path.join(root, 'deploy', 'docker'), path.join(image, 'deploy', 'docker'), { recursive: true });
  const dist = path.join(image, 'apps', 'ca-service', 'dist');
  mkdirSync(dist, { recursive: true });
  writeFileSync(path.join(dist, 'main.js'), 'process.stdout.write(JSON.stringify({ execArgv: process.execArgv, argv: process.argv.slice(2) }));\n');
  writeFileSync(path.join(image, 'apps', 'ca-service', 'package.json'), '{"type":"module"}\n');
  return image;
}

/** Runs the image's entry point as the Dockerfile's ENTRYPOINT does, with `env` on top of PATH. */
function runEntry(image: string, env: NodeJS.ProcessEnv): { execArgv: string[]; argv: string[] } {
  const result = spawnSync('/bin/sh', [path.join(image, 'deploy', 'docker', 'entrypoint.sh'), 'ca-service', '--flag', 'two words'], {
    encoding: 'utf8',
    env: { PATH: `${path.dirname(process.execPath)}:${process.env['PATH'] ?? ''}`, ...env },
  });
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as { execArgv: string[]; argv: string[] };
}

describe('the node runtime flags', () => {
  it('ships flags that node accepts on its command line but refuses in NODE_OPTIONS, which is why the entry passes them', () => {
    expect(shipped).toContain('--single-threaded-gc');
    expect(spawnSync(process.execPath, [...shipped, '-e', '0']).status).toBe(0);
    const inNodeOptions = spawnSync(process.execPath, ['-e', '0'], { env: { ...process.env, NODE_OPTIONS: '--single-threaded-gc' }, encoding: 'utf8' });
    expect(inNodeOptions.status).not.toBe(0);
    expect(inNodeOptions.stderr).toContain('is not allowed in NODE_OPTIONS');
  });

  it("reads the file's words and drops comments, as the entry's sed does", () => {
    expect(parseNodeFlags('# why\n--a  --b=1 # trailing\n\n\t--c\n')).toEqual(['--a', '--b=1', '--c']);
    expect(nodeFlags(root, {})).toEqual(shipped);
    expect(nodeFlags(root, { FSM_NODE_FLAGS: '' })).toEqual([]);
    expect(nodeFlags(root, { FSM_NODE_FLAGS: ' --max-semi-space-size=32 ' })).toEqual(['--max-semi-space-size=32']);
  });

  it("has the image's entry point run the app under node with the file's flags and the app's own arguments", () => {
    const image = fakeImage();
    expect(runEntry(image, {})).toEqual({ execArgv: shipped, argv: ['--flag', 'two words'] });
  });

  it('lets an operator replace the flags in the image with FSM_NODE_FLAGS, or drop them with an empty value', () => {
    const image = fakeImage();
    expect(runEntry(image, { FSM_NODE_FLAGS: '--max-semi-space-size=32 --single-threaded-gc' }).execArgv).toEqual(['--max-semi-space-size=32', '--single-threaded-gc']);
    expect(runEntry(image, { FSM_NODE_FLAGS: '' }).execArgv).toEqual([]);
  });

  it('has the stack launcher start every app with the same flags (and FSM_NODE_FLAGS replace them there too)', async () => {
    const cmdline = async (env: NodeJS.ProcessEnv): Promise<string[]> => {
      // No Redis listens on port 1: the app only tries to connect, long enough to be looked at.
      const app = new AppProcess('rotation-worker', { env: { ...process.env, REDIS_URL: 'redis://127.0.0.1:1', ...env }, runFrom: 'source' });
      try {
        if (app.pid === undefined) throw new Error('the app did not start');
        return readFileSync(`/proc/${app.pid}/cmdline`, 'utf8').split('\0').filter((word) => word !== '');
      } finally {
        await app.kill();
      }
    };
    const withShipped = await cmdline({});
    expect(withShipped.slice(1, 1 + shipped.length)).toEqual(shipped);
    expect(withShipped[1 + shipped.length]).toBe('--import');
    const replaced = await cmdline({ FSM_NODE_FLAGS: '--max-semi-space-size=32' });
    expect(replaced.slice(1, 3)).toEqual(['--max-semi-space-size=32', '--import']);
  });
});
