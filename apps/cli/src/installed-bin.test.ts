// The command as npm installs it: `npm ci` links node_modules/.bin/fsm-certs and (through the
// root `prepare` script) builds the bundle it loads. These run what an operator runs, from
// outside the repository too, not the TypeScript sources.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { HELP } from './help.js';

const cliDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = path.resolve(cliDir, '..', '..');
const installed = path.join(repoRoot, 'node_modules', '.bin', 'fsm-certs');
const elsewhere = mkdtempSync(path.join(tmpdir(), 'fsm-cli-bin-'));
afterAll(() => rmSync(elsewhere, { recursive: true, force: true }));

function run(command: string, args: readonly string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, FSM_DATA_DIR: '' } });
  if (result.error !== undefined) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the installed fsm-certs command', () => {
  it('is linked into node_modules/.bin by npm, pointing at the CLI bootstrap', () => {
    expect(realpathSync(installed)).toBe(realpathSync(path.join(cliDir, 'bin', 'fsm-certs.js')));
  });

  it('prints the help with exit 0 when run as node_modules/.bin/fsm-certs --help from any directory', () => {
    const result = run(installed, ['--help'], elsewhere);
    expect(result.stderr).toBe('');
    expect(result.stdout, 'the bundle differs from src/help.ts: was `npm run build:cli` run after the last change?').toBe(HELP);
    expect(result.status).toBe(0);
  });

  it('answers `npx fsm-certs --help` in the repository without asking the registry', () => {
    const result = run('npx', ['--no-install', 'fsm-certs', '--help'], repoRoot);
    expect(result.stdout).toBe(HELP);
    expect(result.status).toBe(0);
  });

  it('reports a usage error on one line with exit 2, as the sources do', () => {
    const result = run(installed, ['cert', 'frobnicate'], elsewhere);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('fsm-certs: CLI_INVALID_INPUT: unknown command "cert frobnicate"; see fsm-certs --help\n');
    expect(result.status).toBe(2);
  });

  it('says how to build it, with exit 1, when the bundle is missing (npm ci --ignore-scripts)', () => {
    const copy = path.join(elsewhere, 'unbuilt', 'bin');
    mkdirSync(copy, { recursive: true });
    copyFileSync(path.join(cliDir, 'bin', 'fsm-certs.js'), path.join(copy, 'fsm-certs.js'));
    const result = run(process.execPath, [path.join(copy, 'fsm-certs.js'), '--help'], elsewhere);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^fsm-certs: NOT_BUILT: .*run `npm run build:cli`.*\n$/);
    expect(result.status).toBe(1);
  });
});
