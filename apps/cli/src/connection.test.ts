import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { endpointFileCandidates, requireToken, resolveConnection, type ResolveConnectionInput } from './connection.js';
import { CliInputError } from './errors.js';

const work = mkdtempSync(path.join(tmpdir(), 'fsm-cli-conn-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A directory with .data/endpoint.json holding `content` (an object is written as JSON). */
function withEndpoint(name: string, content: unknown): string {
  const dir = path.join(work, name);
  mkdirSync(path.join(dir, '.data'), { recursive: true });
  writeFileSync(path.join(dir, '.data', 'endpoint.json'), typeof content === 'string' ? content : JSON.stringify(content));
  return dir;
}

const empty = path.join(work, 'empty');
mkdirSync(empty, { recursive: true });
const base: ResolveConnectionInput = { flags: {}, env: {}, cwd: empty, repoRoot: empty };
const fileDir = withEndpoint('npm-start', { gatewayUrl: 'http://127.0.0.1:8080', adminToken: 'file-admin-token', caFile: 'ca.crt', redisUrl: 'redis://x' });

function failure(input: ResolveConnectionInput): CliInputError {
  try {
    resolveConnection(input);
  } catch (error) {
    if (error instanceof CliInputError) return error;
    throw error;
  }
  throw new Error('resolveConnection did not fail');
}

describe('resolveConnection', () => {
  it('takes --server and --token first, over env and endpoint.json', () => {
    const c = resolveConnection({ ...base, cwd: fileDir, flags: { server: 'https://gw.example:8443/', token: 'flag-token', ca: 'roots.pem' }, env: { FSM_CERTS_SERVER: 'http://env:1', FSM_CERTS_TOKEN: 'env-token' } });
    expect(c).toEqual({ server: 'https://gw.example:8443', token: 'flag-token', caFile: path.join(fileDir, 'roots.pem'), source: '--server' });
  });

  it('takes FSM_CERTS_SERVER / FSM_CERTS_TOKEN / FSM_CERTS_CA when no flag is given', () => {
    const c = resolveConnection({ ...base, cwd: fileDir, env: { FSM_CERTS_SERVER: 'http://env.example:8080', FSM_CERTS_TOKEN: 'env-token', FSM_CERTS_CA: '/etc/roots.pem' } });
    expect(c).toEqual({ server: 'http://env.example:8080', token: 'env-token', caFile: '/etc/roots.pem', source: 'FSM_CERTS_SERVER' });
  });

  it('mixes a --server flag with the env token, as with kubectl', () => {
    expect(resolveConnection({ ...base, flags: { server: 'http://a:1' }, env: { FSM_CERTS_TOKEN: 'env-token' } }).token).toBe('env-token');
  });

  it('never sends the admin token of endpoint.json to a server given another way', () => {
    const c = resolveConnection({ ...base, cwd: fileDir, flags: { server: 'http://elsewhere.example:8080' } });
    expect(c.token).toBeUndefined();
    expect(c.caFile).toBeUndefined();
  });

  it('falls back to .data/endpoint.json in the working directory, CA path relative to the file', () => {
    const c = resolveConnection({ ...base, cwd: fileDir });
    expect(c).toEqual({
      server: 'http://127.0.0.1:8080',
      token: 'file-admin-token',
      caFile: path.join(fileDir, '.data', 'ca.crt'),
      source: path.join(fileDir, '.data', 'endpoint.json'),
    });
  });

  it('lets a --token flag override the token of endpoint.json', () => {
    expect(resolveConnection({ ...base, cwd: fileDir, flags: { token: 'mine' } }).token).toBe('mine');
  });

  it('looks in $FSM_DATA_DIR, then the working directory, then the repository root', () => {
    const repo = withEndpoint('repo', { gatewayUrl: 'http://repo:1' });
    expect(resolveConnection({ ...base, repoRoot: repo }).server).toBe('http://repo:1');
    expect(resolveConnection({ ...base, cwd: fileDir, repoRoot: repo }).server).toBe('http://127.0.0.1:8080');
    const dataDir = path.join(withEndpoint('custom', { gatewayUrl: 'http://custom:1' }), '.data');
    expect(resolveConnection({ ...base, cwd: fileDir, repoRoot: repo, env: { FSM_DATA_DIR: dataDir } }).server).toBe('http://custom:1');
    expect(endpointFileCandidates({ ...base, cwd: '/w', repoRoot: '/r', env: { FSM_DATA_DIR: 'd' } })).toEqual(['/w/d/endpoint.json', '/w/.data/endpoint.json', '/r/.data/endpoint.json']);
  });

  it('names all three ways, and where it looked, when nothing is configured', () => {
    const error = failure(base);
    expect(error.code).toBe('NO_SERVER');
    expect(error.message).toContain('pass --server URL --token T');
    expect(error.message).toContain('set FSM_CERTS_SERVER and FSM_CERTS_TOKEN');
    expect(error.message).toContain('run `npm start`, which writes .data/endpoint.json');
    expect(error.message).toContain(path.join(empty, '.data', 'endpoint.json'));
  });

  const broken: Array<{ name: string; content: unknown; message: RegExp }> = [
    { name: 'not JSON', content: '{"gatewayUrl": ', message: /endpoint\.json is not readable JSON .*; delete it and run `npm start` again$/ },
    { name: 'without gatewayUrl', content: { adminToken: 'x' }, message: /endpoint\.json lacks a valid gatewayUrl; it should hold/ },
    { name: 'with a non-http URL', content: { gatewayUrl: 'ftp://x' }, message: /gateway URL "ftp:\/\/x" \(from .*endpoint\.json\) must be http:\/\/ or https:\/\/$/ },
  ];
  it.each(broken)('refuses an endpoint.json $name with the file named', ({ name, content, message }) => {
    const dir = withEndpoint(`broken-${name.replace(/\W+/g, '-')}`, content);
    const error = failure({ ...base, cwd: dir });
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('file-admin-token');
  });

  it('refuses a --server that is not a URL', () => {
    expect(failure({ ...base, flags: { server: 'localhost:8080' } }).message).toMatch(/must be http:\/\/ or https:\/\//);
    expect(failure({ ...base, flags: { server: 'not a url' } }).message).toMatch(/is not a URL; use e\.g\. http:\/\/127\.0\.0\.1:8080$/);
  });

  it('treats empty values as unset', () => {
    expect(resolveConnection({ ...base, cwd: fileDir, env: { FSM_CERTS_SERVER: '', FSM_CERTS_TOKEN: '' } }).token).toBe('file-admin-token');
  });
});

describe('requireToken', () => {
  it('returns the token, or says every way to give one', () => {
    expect(requireToken({ server: 'http://a', token: 't', source: '--server' }, 'cert get')).toBe('t');
    expect(() => requireToken({ server: 'http://a', source: '--server' }, 'cert list')).toThrow(
      'cert list needs a token for http://a: pass --token T or set FSM_CERTS_TOKEN (`npm start` puts its admin token in .data/endpoint.json)',
    );
  });
});
