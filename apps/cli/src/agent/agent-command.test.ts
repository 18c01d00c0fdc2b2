import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../io.js';
import { parseCommand, runCli } from '../run.js';
import { recordingIo, relaunchRecorder, scratchDir, writeCaFile, type RecordingIo } from '../cli-io.test-helpers.js';

const dir = scratchDir('fsm-cli-agent-');

function io(overrides: Partial<CliIo> = {}): RecordingIo {
  return recordingIo({ cwd: dir, ...overrides });
}

describe('fsm-certs agent', () => {
  it('parses its flags, refusing the online commands\' --server', () => {
    const parsed = parseCommand(['agent', '--gateway', 'http://gw:8080', '--token-file', '/var/run/secrets/tokens/fsm', '--dir', '/certs', '--name', 'a.b.cluster.local', '--san', 'x', '--reload-signal', 'SIGHUP', '--reload-pid', '7']);
    expect(parsed?.name).toBe('agent');
    expect(parsed?.flags['token-file']).toBe('/var/run/secrets/tokens/fsm');
    expect(() => parseCommand(['agent', '--server', 'http://gw'])).toThrow(/--server does not apply to agent/);
  });

  it.each([
    { argv: ['agent', '--dir', 'd', '--name', 'a.b'], env: {}, line: /^fsm-certs: NO_SERVER: agent: no gateway to talk to: pass --gateway URL/ },
    { argv: ['agent', '--dir', 'd', '--name', 'a.b', '--gateway', 'http://127.0.0.1:9'], env: {}, line: /^fsm-certs: NO_TOKEN: agent needs a token: --token-file FILE/ },
    { argv: ['agent', '--dir', 'd', '--name', 'a.b', '--gateway', 'http://127.0.0.1:9', '--token', 't', '--token-file', 'f'], env: {}, line: /--token and --token-file exclude each other/ },
    { argv: ['agent', '--dir', 'd', '--name', 'a.b', '--gateway', 'gw:8080', '--token', 't'], env: {}, line: /gateway URL "gw:8080" .* must be http:\/\/ or https:\/\// },
  ])('exits 2 with one line for $argv', async ({ argv, env, line }) => {
    const t = io({ env });
    expect(await runCli(argv, t)).toBe(2);
    expect(t.err).toHaveLength(1);
    expect(t.err[0]).toMatch(line);
  });

  it('runs until its signal aborts, logging JSON lines to stderr, and exits 0 leaving no files when the gateway never answered', async () => {
    const stop = new AbortController();
    const certs = path.join(dir, 'certs-unreachable');
    let reported!: () => void;
    const unreachable = new Promise<void>((resolve) => (reported = resolve));
    const captured = io({ signal: stop.signal, env: { FSM_CERTS_TOKEN: 'secret-token-value' } });
    const t = {
      ...captured,
      stderr: (text: string): void => {
        captured.stderr(text);
        if (text.includes('GATEWAY_UNREACHABLE')) reported();
      },
    };
    const running = runCli(['agent', '--gateway', 'http://127.0.0.1:9', '--dir', certs, '--name', 'a.bookstore.cluster.local', '--health-addr', '127.0.0.1:0', '--log-level', 'debug'], t);
    // Its first report that the gateway is unreachable, then stop it (or its early exit, asserted below).
    await Promise.race([unreachable, running]);
    stop.abort();
    expect(await running).toBe(0);
    const lines = t.err.join('').trim().split('\n').map((line) => JSON.parse(line) as { msg: string; level: string });
    expect(lines[0]?.msg).toBe('agent started');
    expect(lines.some((l) => l.level === 'warn' && /sync with the gateway failed \(GATEWAY_UNREACHABLE\); no certificate yet; retrying in/.test(l.msg))).toBe(true);
    expect(lines.at(-1)?.msg).toBe('agent stopped; the files stay in place');
    expect(t.err.join('')).not.toContain('secret-token-value');
    expect(existsSync(certs)).toBe(false);
  });

  it('relaunches itself trusting --ca-file for an https gateway', async () => {
    const caFile = writeCaFile(dir, 'gateway-ca.pem');
    const { relaunched, relaunchTrusting } = relaunchRecorder(5);
    expect(await runCli(['agent', '--gateway', 'https://127.0.0.1:9', '--ca-file', caFile, '--token', 't', '--dir', 'd', '--name', 'a.b'], io({ relaunchTrusting }))).toBe(5);
    expect(relaunched).toEqual([caFile]);
  });
});
