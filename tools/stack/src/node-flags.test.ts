// FSM_NODE_FLAGS reaches node's own command line (where NODE_OPTIONS cannot put V8 flags), so a
// benchmark variant really runs with the setting it names; without it the apps run with node's defaults.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AppProcess } from './app-process.js';
import { nodeFlags, parseNodeFlags } from './node-flags.js';

/** How the launcher started node for an app with `env`: its command line, read from /proc. */
async function commandLine(env: NodeJS.ProcessEnv): Promise<string[]> {
  // No Redis listens on port 1: the app only tries to connect, long enough to be looked at.
  const base: NodeJS.ProcessEnv = { ...process.env, REDIS_URL: 'redis://127.0.0.1:1' };
  delete base['FSM_NODE_FLAGS'];
  const app = new AppProcess('rotation-worker', { env: { ...base, ...env }, runFrom: 'source' });
  try {
    if (app.pid === undefined) throw new Error('the app did not start');
    return readFileSync(`/proc/${app.pid}/cmdline`, 'utf8').split('\0').filter((word) => word !== '');
  } finally {
    await app.kill();
  }
}

describe('FSM_NODE_FLAGS', () => {
  it('is needed for V8 flags such as --single-threaded-gc: node refuses them in NODE_OPTIONS', () => {
    const refused = spawnSync(process.execPath, ['-e', '0'], { env: { ...process.env, NODE_OPTIONS: '--single-threaded-gc' }, encoding: 'utf8' });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('is not allowed in NODE_OPTIONS');
  });

  it('splits its value into words and drops empty ones', () => {
    expect(parseNodeFlags('  --a \t--b=1\n--c ')).toEqual(['--a', '--b=1', '--c']);
    expect(nodeFlags({})).toEqual([]);
    expect(nodeFlags({ FSM_NODE_FLAGS: '' })).toEqual([]);
  });

  it("has the stack launcher put its flags on node's command line before the app, and nothing without it", async () => {
    const withFlags = await commandLine({ FSM_NODE_FLAGS: '--single-threaded-gc --max-semi-space-size=32' });
    expect(withFlags.slice(1, 4)).toEqual(['--single-threaded-gc', '--max-semi-space-size=32', '--import']);
    const without = await commandLine({});
    expect(without[1]).toBe('--import');
  });
});
