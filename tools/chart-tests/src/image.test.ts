// The one image: its entry point (deploy/docker/app.mjs) runs every app there is, handing each
// its own arguments, and the Dockerfile builds all of them once, without dev dependencies,
// for a non-root user. (No Docker engine runs here: the entry point is run with node directly.)
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { repoRoot } from './helm.js';

const launcher = path.join(repoRoot, 'deploy', 'docker', 'app.mjs');
const dockerfile = readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');

async function launcherApps(): Promise<string[]> {
  const mod: unknown = await import(pathToFileURL(launcher).href);
  return z.object({ APPS: z.array(z.string()) }).parse(mod).APPS;
}

/** Names that run a command of an app (`agent` is `cli agent`). */
async function launcherCommands(): Promise<Record<string, { app: string; args: string[] }>> {
  const mod: unknown = await import(pathToFileURL(launcher).href);
  return z.object({ COMMANDS: z.record(z.string(), z.object({ app: z.string(), args: z.array(z.string()) })) }).parse(mod).COMMANDS;
}

/** Every app of the repository: a directory under apps/ with a main entry point. */
function repositoryApps(): string[] {
  return readdirSync(path.join(repoRoot, 'apps')).filter((app) => existsSync(path.join(repoRoot, 'apps', app, 'src', 'main.ts'))).sort();
}

const temp: string[] = [];
afterAll(() => temp.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A copy of the entry point beside fake build outputs that print the argv they were given. */
function fakeImage(apps: readonly string[]): string {
  const root = mkdtempSync(path.join(tmpdir(), 'fsm-certs-image-'));
  temp.push(root);
  mkdirSync(path.join(root, 'deploy', 'docker'), { recursive: true });
  cpSync(launcher, path.join(root, 'deploy', 'docker', 'app.mjs'));
  for (const app of apps) {
    mkdirSync(path.join(root, 'apps', app, 'dist'), { recursive: true });
    writeFileSync(path.join(root, 'apps', app, 'dist', 'main.js'), `process.stdout.write(JSON.stringify({ app: ${JSON.stringify(app)}, argv: process.argv.slice(1) }));\n`);
    writeFileSync(path.join(root, 'apps', app, 'package.json'), '{"type":"module"}\n');
  }
  return root;
}

describe('the image entry point', () => {
  it('knows every app of the repository', async () => {
    expect([...(await launcherApps())].sort()).toEqual(repositoryApps());
  });

  it("runs the named app's build output with the app's own arguments, as if started directly", async () => {
    const apps = await launcherApps();
    const root = fakeImage(apps);
    for (const app of apps) {
      const result = spawnSync(process.execPath, [path.join(root, 'deploy', 'docker', 'app.mjs'), app, '--dry-run', '--role', 'fsm'], { encoding: 'utf8' });
      expect(result.status, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({ app, argv: [path.join(root, 'apps', app, 'dist', 'main.js'), '--dry-run', '--role', 'fsm'] });
    }
  });

  it('runs the workload agent as the cli\'s agent command, with its arguments after it', async () => {
    expect(await launcherCommands()).toEqual({ agent: { app: 'cli', args: ['agent'] } });
    const root = fakeImage(await launcherApps());
    const result = spawnSync(process.execPath, [path.join(root, 'deploy', 'docker', 'app.mjs'), 'agent', '--dir', '/certs', '--name', 'a.b.cluster.local'], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ app: 'cli', argv: [path.join(root, 'apps', 'cli', 'dist', 'main.js'), 'agent', '--dir', '/certs', '--name', 'a.b.cluster.local'] });
  });

  it('refuses an unknown app with exit code 2 and the list of apps', () => {
    const result = spawnSync(process.execPath, [launcher, 'fsm-controller'], { encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('unknown app "fsm-controller"; usage: app.mjs <ca-service|issuer-gateway|rotation-worker|vault-bootstrap|cli|agent>');
  });
});

describe('the Dockerfile', () => {
  it('compiles every app the entry point runs, in one build stage', async () => {
    const build = /RUN npm ci --no-audit --no-fund \\\n && npx tsc -b ([^\n]+)/.exec(dockerfile)?.[1]?.split(' ') ?? [];
    expect(build.map((dir) => dir.replace(/^apps\//, '')).sort()).toEqual([...(await launcherApps())].sort());
  });

  it('installs production dependencies only, and runs as a non-root user through the entry point', () => {
    expect(dockerfile).toContain('RUN npm ci --omit=dev --no-audit --no-fund');
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(runtime).not.toContain('npm ci');
    expect(runtime).toMatch(/^USER 1000:1000$/m);
    expect(runtime).toContain('COPY --chown=root:root deploy/docker/app.mjs deploy/docker/entrypoint.sh deploy/docker/node-flags ./deploy/docker/');
    expect(runtime).toMatch(/^ENTRYPOINT \["\/bin\/sh", "\/app\/deploy\/docker\/entrypoint\.sh"\]$/m);
  });

  it("starts node through entrypoint.sh, with the node flags file beside it, and names no node flag of its own", () => {
    // The flags are one fact (deploy/docker/node-flags, tools/stack's node-flags.test.ts runs the
    // entry point): a flag written into the Dockerfile would be a second copy FSM_NODE_FLAGS misses.
    const entry = readFileSync(path.join(repoRoot, 'deploy', 'docker', 'entrypoint.sh'), 'utf8');
    expect(entry).toMatch(/^exec node \$flags "\$here\/app\.mjs" "\$@"$/m);
    expect(entry).toContain('"$here/node-flags"');
    expect(dockerfile).not.toMatch(/--single-threaded-gc|--min-semi-space-size|^ENV NODE_OPTIONS/m);
  });

  it('is the only Dockerfile: no per-app copies are left', () => {
    expect(repositoryApps().filter((app) => existsSync(path.join(repoRoot, 'apps', app, 'Dockerfile')))).toEqual([]);
  });

  it('keeps local build output and dependencies out of the build context', () => {
    const ignored = readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['**/node_modules', '**/dist', '.git', '.tools']));
  });
});
