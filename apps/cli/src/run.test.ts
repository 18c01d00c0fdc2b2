import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliInputError } from './errors.js';
import { parseCommand, runCli } from './run.js';
import { recordingIo as io, relaunchRecorder, scratchDir, writeCaFile } from './cli-io.test-helpers.js';

const dir = scratchDir('fsm-cli-run-');

/** A port nobody listens on (fetch refuses "bad ports" like 1 or 9 before connecting). */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

describe('parseCommand', () => {
  const accepted: Array<{ argv: string[]; name: string; operands: string[] }> = [
    { argv: ['ca', 'show'], name: 'ca show', operands: [] },
    { argv: ['ca', 'dates', '--json'], name: 'ca dates', operands: [] },
    { argv: ['cert', 'issue', 'a.b.cluster.local', '--out', 'd', '--san', 'x', '--san', 'y', '--spiffe', '--key', 'rsa-2048'], name: 'cert issue', operands: ['a.b.cluster.local'] },
    { argv: ['cert', 'get', 'a.example', '--json', '--server', 'http://h:1', '--token', 't'], name: 'cert get', operands: ['a.example'] },
    { argv: ['cert', 'list', '--limit', '5'], name: 'cert list', operands: [] },
    { argv: ['cert', 'rotate', 'a.example', '--out', 'd', '--force'], name: 'cert rotate', operands: ['a.example'] },
    { argv: ['cert', 'release', 'a.example'], name: 'cert release', operands: ['a.example'] },
    { argv: ['events', '--from', '1-0', '--count', '3'], name: 'events', operands: [] },
    { argv: ['check', '--root-days', '60', '--grace', '5m', '--ca', 'ca.pem'], name: 'check', operands: [] },
    { argv: ['cert', 'create', 'a.example', '--ca-dir', 'ca', '--out', 'o'], name: 'cert create', operands: ['a.example'] },
  ];
  it.each(accepted)('reads "$argv" as $name', ({ argv, name, operands }) => {
    const parsed = parseCommand(argv);
    expect(parsed?.name).toBe(name);
    expect(parsed?.operands).toEqual(operands);
  });

  it('keeps repeated --san values in order', () => {
    expect(parseCommand(['cert', 'issue', 'a.example', '--san', 'x', '--san', 'y'])?.flags.san).toEqual(['x', 'y']);
  });

  it('asks for help with no arguments, "help" or -h', () => {
    expect(parseCommand([])).toBeUndefined();
    expect(parseCommand(['help'])).toBeUndefined();
    expect(parseCommand(['cert', 'issue', '-h'])).toBeUndefined();
  });

  const refused: Array<{ argv: string[]; message: RegExp }> = [
    { argv: ['cert', 'get', 'a.example', '--out', 'd'], message: /^--out does not apply to cert get; see fsm-certs --help$/ },
    { argv: ['ca', 'create', '--server', 'http://h'], message: /^--server does not apply to ca create/ },
    { argv: ['cert', 'get', 'a.example', 'b.example'], message: /^cert get takes one argument, got "a.example b.example"/ },
    { argv: ['cert', 'list', 'extra'], message: /^cert list takes no arguments/ },
    { argv: ['cert', 'frob'], message: /^unknown command "cert frob"; see fsm-certs --help$/ },
    { argv: ['events', '--follow'], message: /^Unknown option '--follow'.*see fsm-certs --help$/ },
    { argv: ['cert', 'issue', 'a.example', '--out'], message: /argument missing/ },
  ];
  it.each(refused)('refuses "$argv" as bad input', ({ argv, message }) => {
    const error = (() => {
      try {
        parseCommand(argv);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(CliInputError);
    expect((error as CliInputError).message).toMatch(message);
  });
});

describe('runCli exit codes without a server', () => {
  it('prints help and exits 0', async () => {
    const t = io();
    expect(await runCli(['--help'], t)).toBe(0);
    expect(t.out.join('')).toContain('fsm-certs cert issue CN --out DIR');
  });

  it('exits 2 naming every way to give a server when none is configured', async () => {
    const t = io();
    expect(await runCli(['cert', 'list'], t)).toBe(2);
    expect(t.err).toHaveLength(1);
    expect(t.err[0]).toMatch(/^fsm-certs: NO_SERVER: no gateway to talk to: pass --server URL --token T, or set FSM_CERTS_SERVER and FSM_CERTS_TOKEN, or run `npm start`, which writes \.data\/endpoint\.json \(looked for: .*\)\n$/);
  });

  it('exits 2 when a command that needs a token has none, before any request', async () => {
    const t = io({ env: { FSM_CERTS_SERVER: 'http://127.0.0.1:9' } });
    expect(await runCli(['cert', 'get', 'a.example'], t)).toBe(2);
    expect(t.err[0]).toMatch(/^fsm-certs: NO_TOKEN: cert get needs a token for http:\/\/127\.0\.0\.1:9: pass --token T or set FSM_CERTS_TOKEN/);
  });

  it('exits 3 with the URL and the system error when nothing listens', async () => {
    const t = io();
    const port = await closedPort();
    expect(await runCli(['ca', 'dates', '--server', `http://127.0.0.1:${port}`], t)).toBe(3);
    expect(t.err).toEqual([
      `fsm-certs: GATEWAY_UNREACHABLE: cannot reach the gateway at http://127.0.0.1:${port} (ECONNREFUSED, from --server); is it running (\`npm start\`) and is the URL right?\n`,
    ]);
  });

  const badFlags: Array<{ argv: string[]; line: RegExp }> = [
    { argv: ['cert', 'issue', 'a.example', '--out', '/tmp/x', '--validity', '1 day'], line: /^fsm-certs: CLI_INVALID_INPUT: --validity: invalid duration "1 day"/ },
    { argv: ['cert', 'issue', 'a.example', '--out', '/tmp/x', '--key', 'dsa'], line: /^fsm-certs: CLI_INVALID_INPUT: --key "dsa" is not supported/ },
    { argv: ['cert', 'issue', 'a.example'], line: /^fsm-certs: CLI_INVALID_INPUT: --out is required, e.g. --out certs\/bookstore\/\n$/ },
    { argv: ['cert', 'issue', 'a.example', '--out', '/tmp/x', '--csr', '/nonexistent/w.csr'], line: /^fsm-certs: CLI_INVALID_INPUT: CSR not found: \/nonexistent\/w\.csr/ },
    { argv: ['cert', 'list', '--limit', '0'], line: /^fsm-certs: CLI_INVALID_INPUT: --limit "0" must be a whole number of at least 1\n$/ },
    { argv: ['events', '--count', 'many'], line: /^fsm-certs: CLI_INVALID_INPUT: --count "many" must be a whole number/ },
    { argv: ['check', '--root-days=-1'], line: /^fsm-certs: CLI_INVALID_INPUT: --root-days "-1" must be a number of days/ },
    { argv: ['check', '--grace', 'soon'], line: /^fsm-certs: CLI_INVALID_INPUT: --grace: invalid duration "soon"/ },
    { argv: ['cert', 'get'], line: /^fsm-certs: CLI_INVALID_INPUT: CN is required/ },
  ];
  it.each(badFlags)('exits 2 before any request for $argv', async ({ argv, line }) => {
    // A server that does not exist: reaching it would be exit 3, so exit 2 proves nothing was sent.
    const t = io({ env: { FSM_CERTS_SERVER: 'http://127.0.0.1:9', FSM_CERTS_TOKEN: 'secret-token-value' } });
    expect(await runCli(argv, t)).toBe(2);
    expect(t.err).toHaveLength(1);
    expect(t.err[0]).toMatch(line);
    expect(t.err[0]).not.toContain('secret-token-value');
  });

  it('relaunches itself trusting --ca for an https gateway, and only then', async () => {
    const caFile = writeCaFile(dir);
    const notPem = path.join(dir, 'not.pem');
    writeFileSync(notPem, 'hello');
    const { relaunched, relaunchTrusting } = relaunchRecorder(7);
    // https + a CA: the child's exit code is ours.
    expect(await runCli(['ca', 'show', '--server', 'https://127.0.0.1:9', '--ca', caFile], io({ relaunchTrusting }))).toBe(7);
    expect(relaunched).toEqual([caFile]);
    // Inside the relaunched child (marked by FSM_CERTS_TRUSTED_CA) it does not relaunch again.
    const child = io({ relaunchTrusting, env: { FSM_CERTS_TRUSTED_CA: caFile } });
    expect(await runCli(['ca', 'show', '--server', 'https://127.0.0.1:9', '--ca', caFile], child)).toBe(3);
    // Plain http needs no CA.
    expect(await runCli(['ca', 'show', '--server', 'http://127.0.0.1:9', '--ca', caFile], io({ relaunchTrusting }))).toBe(3);
    expect(relaunched).toEqual([caFile]);
    // A file without a certificate is refused before relaunching.
    const bad = io({ relaunchTrusting });
    expect(await runCli(['ca', 'show', '--server', 'https://127.0.0.1:9', '--ca', notPem], bad)).toBe(2);
    expect(bad.err[0]).toMatch(/not\.pem holds no "-----BEGIN CERTIFICATE-----" block/);
    expect(relaunched).toEqual([caFile]);
  });
});
