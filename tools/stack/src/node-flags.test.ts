// The node runtime flags (deploy/docker/node-flags) are one fact: the image's entry point and the
// stack launcher both run every app with them, and FSM_NODE_FLAGS replaces them in both. Checked
// on real node processes: their command line, their own process.execArgv and V8's young
// generation as the app's process sees it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppProcess, repoRoot } from './app-process.js';
import { nodeFlags, nodeFlagsFile, parseNodeFlags } from './node-flags.js';

const root = repoRoot();
const shipped = parseNodeFlags(readFileSync(nodeFlagsFile(root), 'utf8'));
const MiB = 1024 * 1024;
const temp: string[] = [];
afterAll(() => temp.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  temp.push(dir);
  return dir;
}

/** Without FSM_NODE_FLAGS from the caller's shell, so the file's flags are what a test gets. */
function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env['FSM_NODE_FLAGS'];
  delete env['NODE_OPTIONS'];
  return env;
}

const probeReport = z.object({ nodeFlagsProbe: z.object({ execArgv: z.array(z.string()), newSpaceBytes: z.number() }) });
type ProbeReport = z.infer<typeof probeReport>['nodeFlagsProbe'];

/**
 * Loaded first into a node process (NODE_OPTIONS=--import): prints how that process was started
 * and the size V8 gave its young generation before the app allocated anything.
 */
const probe = path.join(tempDir('fsm-certs-flags-probe-'), 'probe.mjs');
writeFileSync(
  probe,
  `import v8 from 'node:v8';
const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
process.stderr.write(JSON.stringify({ nodeFlagsProbe: { execArgv: process.execArgv, newSpaceBytes: space ? space.space_size : -1 } }) + '\\n');
`,
);

function probed(lines: readonly string[]): ProbeReport | undefined {
  for (const line of lines) {
    if (!line.startsWith('{"nodeFlagsProbe"')) continue;
    return probeReport.parse(JSON.parse(line)).nodeFlagsProbe;
  }
  return undefined;
}

/**
 * The image's deploy/docker (entry point, flags file, app.mjs) with `flagsText` as its flags file,
 * beside a fake ca-service build that prints how node started it, and a rotation-worker "build"
 * that is the real rotation-worker's source (run through tsx, as no build exists in a test run).
 */
function fakeImage(flagsText?: string): string {
  const image = tempDir('fsm-certs-entry-');
  cpSync(path.join(root, 'deploy', 'docker'), path.join(image, 'deploy', 'docker'), { recursive: true });
  if (flagsText !== undefined) writeFileSync(path.join(image, 'deploy', 'docker', 'node-flags'), flagsText);
  const app = (name: string, main: string): void => {
    mkdirSync(path.join(image, 'apps', name, 'dist'), { recursive: true });
    writeFileSync(path.join(image, 'apps', name, 'dist', 'main.js'), main);
    writeFileSync(path.join(image, 'apps', name, 'package.json'), '{"type":"module"}\n');
  };
  app('ca-service', 'process.stdout.write(JSON.stringify({ execArgv: process.execArgv, argv: process.argv.slice(2) }));\n');
  app('rotation-worker', `await import(${JSON.stringify(pathToFileURL(path.join(root, 'apps', 'rotation-worker', 'src', 'main.ts')).href)});\n`);
  return image;
}

/** Runs the image's entry point as the Dockerfile's ENTRYPOINT does, with `env` on top of PATH. */
function runEntry(image: string, env: NodeJS.ProcessEnv): { execArgv: string[]; argv: string[] } {
  const result = spawnSync('/bin/sh', [path.join(image, 'deploy', 'docker', 'entrypoint.sh'), 'ca-service', '--flag', 'two words', '*'], {
    encoding: 'utf8',
    env: { PATH: `${path.dirname(process.execPath)}:${process.env['PATH'] ?? ''}`, ...env },
  });
  expect(result.status, result.stderr).toBe(0);
  return z.object({ execArgv: z.array(z.string()), argv: z.array(z.string()) }).parse(JSON.parse(result.stdout));
}

/** Waits (bounded) for the line an app prints once its health endpoints listen. */
function healthLine(child: ChildProcess, lines: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no health line within 60 s:\n${lines.slice(-20).join('\n')}`)), 60_000);
    const onData = (chunk: Buffer): void => {
      lines.push(...chunk.toString('utf8').split('\n').filter((line) => line !== ''));
      if (lines.some((line) => line.includes('health endpoints listening'))) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${String(code)}) before serving:\n${lines.slice(-20).join('\n')}`));
    });
  });
}

// No Redis listens on port 1: a service only retries its connection, serving its health
// endpoints, long enough to be looked at.
const appEnv = { REDIS_URL: 'redis://127.0.0.1:1', HEALTH_PORT: '0', LOG_LEVEL: 'info' };

/**
 * The real rotation-worker started through the entry point of an image whose flags file holds
 * `flagsText`: its command line and its probe.
 */
async function throughEntry(flagsText: string, env: NodeJS.ProcessEnv): Promise<{ cmdline: string[]; probe: ProbeReport | undefined }> {
  const image = fakeImage(flagsText);
  const child = spawn('/bin/sh', [path.join(image, 'deploy', 'docker', 'entrypoint.sh'), 'rotation-worker'], {
    cwd: root,
    env: { ...baseEnv(), ...appEnv, NODE_OPTIONS: `--import tsx --conditions=development --import=${pathToFileURL(probe).href}`, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  try {
    await healthLine(child, lines);
    // exec: the entry point's process is node itself.
    const cmdline = readFileSync(`/proc/${String(child.pid)}/cmdline`, 'utf8').split('\0').filter((word) => word !== '');
    return { cmdline, probe: probed(lines) };
  } finally {
    const exited = new Promise((resolve) => child.once('close', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}

/** The real rotation-worker started by the stack launcher: its command line and its probe. */
async function throughLauncher(env: NodeJS.ProcessEnv): Promise<{ cmdline: string[]; probe: ProbeReport | undefined }> {
  const app = new AppProcess('rotation-worker', { env: { ...baseEnv(), ...appEnv, NODE_OPTIONS: `--import=${pathToFileURL(probe).href}`, ...env }, runFrom: 'source' });
  try {
    await app.healthUrl();
    const cmdline = readFileSync(`/proc/${String(app.pid)}/cmdline`, 'utf8').split('\0').filter((word) => word !== '');
    return { cmdline, probe: probed(app.recentOutput) };
  } finally {
    await app.kill();
  }
}

describe('the node runtime flags', () => {
  it('ships flags that node accepts on its command line but refuses in NODE_OPTIONS, which is why the entry passes them', () => {
    const accepted = spawnSync(process.execPath, [...shipped, '-e', '0'], { env: baseEnv(), encoding: 'utf8' });
    expect(accepted.status, accepted.stderr).toBe(0);
    for (const flag of shipped) {
      const refused = spawnSync(process.execPath, ['-e', '0'], { env: { ...baseEnv(), NODE_OPTIONS: flag }, encoding: 'utf8' });
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toContain('is not allowed in NODE_OPTIONS');
    }
  });

  it("reads a flags file exactly as the image's entry point does: words, with comments dropped", () => {
    const text = '# why\n--stack-size=900  --max-semi-space-size=8 # trailing\n\n\t--no-warnings\n   # indented comment\n--min-semi-space-size=2';
    expect(parseNodeFlags(text)).toEqual(['--stack-size=900', '--max-semi-space-size=8', '--no-warnings', '--min-semi-space-size=2']);
    // The same text through entrypoint.sh's own reading (no newline at the end, on purpose).
    expect(runEntry(fakeImage(text), {}).execArgv).toEqual(parseNodeFlags(text));
  });

  it('takes FSM_NODE_FLAGS instead of the file when set, and no flags at all when it is empty', () => {
    expect(nodeFlags(root, {})).toEqual(shipped);
    expect(nodeFlags(root, { FSM_NODE_FLAGS: '' })).toEqual([]);
    expect(nodeFlags(root, { FSM_NODE_FLAGS: ' --max-semi-space-size=32 ' })).toEqual(['--max-semi-space-size=32']);
  });

  it("has the image's entry point run the app under node with the file's flags and the app's own arguments untouched", () => {
    expect(runEntry(fakeImage(), {})).toEqual({ execArgv: shipped, argv: ['--flag', 'two words', '*'] });
  });

  it('lets an operator replace the flags in the image with FSM_NODE_FLAGS, or drop them with an empty value', () => {
    const image = fakeImage();
    expect(runEntry(image, { FSM_NODE_FLAGS: '--max-semi-space-size=32 --single-threaded-gc' }).execArgv).toEqual(['--max-semi-space-size=32', '--single-threaded-gc']);
    expect(runEntry(image, { FSM_NODE_FLAGS: '' }).execArgv).toEqual([]);
  });

  // The flags' effect is checked with a file of their own, so that switching the shipped default
  // off stays a one-line change of deploy/docker/node-flags.
  it("runs a real app through the image's entry point with its file's flags (a 16 MiB young generation), and with node's smaller default under FSM_NODE_FLAGS=''", async () => {
    const flags = '# as shipped\n--single-threaded-gc --min-semi-space-size=16\n';
    const flagged = await throughEntry(flags, {});
    expect(flagged.cmdline.slice(0, 3)).toEqual(['node', '--single-threaded-gc', '--min-semi-space-size=16']);
    expect(flagged.probe?.execArgv).toEqual(['--single-threaded-gc', '--min-semi-space-size=16']);
    expect(flagged.probe?.newSpaceBytes).toBeGreaterThanOrEqual(16 * MiB);
    const defaults = await throughEntry(flags, { FSM_NODE_FLAGS: '' });
    expect(defaults.probe?.execArgv).toEqual([]);
    expect(defaults.probe?.newSpaceBytes).toBeLessThan(16 * MiB);
  });

  it("has the stack launcher start a real app with the shipped file's flags, and FSM_NODE_FLAGS replace them there too", async () => {
    const shippedRun = await throughLauncher({});
    expect(shippedRun.cmdline.slice(1, 2 + shipped.length)).toEqual([...shipped, '--import']);
    expect(shippedRun.probe?.execArgv.slice(0, shipped.length)).toEqual(shipped);
    const replaced = await throughLauncher({ FSM_NODE_FLAGS: '--single-threaded-gc --min-semi-space-size=16' });
    expect(replaced.cmdline.slice(1, 4)).toEqual(['--single-threaded-gc', '--min-semi-space-size=16', '--import']);
    expect(replaced.probe?.newSpaceBytes).toBeGreaterThanOrEqual(16 * MiB);
    const defaults = await throughLauncher({ FSM_NODE_FLAGS: '' });
    expect(defaults.cmdline[1]).toBe('--import');
    expect(defaults.probe?.execArgv[0]).toBe('--import');
    expect(defaults.probe?.newSpaceBytes).toBeLessThan(16 * MiB);
  });
});
