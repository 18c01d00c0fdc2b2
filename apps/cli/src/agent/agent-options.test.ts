import { describe, expect, it } from 'vitest';
import { CliInputError } from '../errors.js';
import { agentOptionsFromFlags, healthAddrOption, reloadOption, type AgentFlags } from './agent-options.js';

const base: AgentFlags = { dir: 'certs', name: 'bookstore-v2.bookstore.cluster.local' };

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CliInputError);
    return (error as Error).message;
  }
  throw new Error('expected a CliInputError');
}

describe('fsm-certs agent flags', () => {
  it('turns the minimal flags into options with the documented defaults', () => {
    expect(agentOptionsFromFlags(base, '/srv')).toEqual({
      dir: '/srv/certs',
      commonName: 'bookstore-v2.bookstore.cluster.local',
      keyMode: 'csr',
      keyAlgorithm: 'ecdsa-p256',
      health: { host: '127.0.0.1', port: 9097 },
    });
  });

  it('passes SANs, SPIFFE, key mode, algorithm and validity through', () => {
    const options = agentOptionsFromFlags({ ...base, san: ['bookstore-v2', '10.0.0.7'], spiffe: true, 'key-mode': 'server', key: 'rsa-2048', validity: '12h' }, '/');
    expect(options).toMatchObject({ sans: ['bookstore-v2', '10.0.0.7'], spiffe: true, keyMode: 'server', keyAlgorithm: 'rsa-2048', validity: '12h' });
  });

  it.each([
    { flags: { name: 'a.b' }, message: /--dir is required/ },
    { flags: { dir: 'd' }, message: /--name is required/ },
    { flags: { ...base, 'key-mode': 'tpm' }, message: /--key-mode "tpm" is not supported/ },
    { flags: { ...base, key: 'ed25519' }, message: /--key "ed25519" is not supported/ },
    { flags: { ...base, validity: 'a day' }, message: /--validity/ },
    { flags: { ...base, 'health-addr': '9097' }, message: /--health-addr "9097" must be HOST:PORT/ },
  ])('refuses $flags with one line naming the flag', ({ flags, message }) => {
    expect(refusal(() => agentOptionsFromFlags(flags, '/'))).toMatch(message);
  });

  it.each([
    { value: undefined, addr: { host: '127.0.0.1', port: 9097 } },
    { value: '0.0.0.0:8081', addr: { host: '0.0.0.0', port: 8081 } },
    { value: '[::1]:0', addr: { host: '::1', port: 0 } },
    { value: 'none', addr: undefined },
  ])('reads --health-addr $value', ({ value, addr }) => {
    expect(healthAddrOption(value)).toEqual(addr);
  });

  it('builds the reload hook from a command, or a signal to a pid or a pid file', () => {
    expect(reloadOption({ 'reload-cmd': 'nginx -s reload' }, '/')).toEqual({ command: 'nginx -s reload' });
    expect(reloadOption({ 'reload-signal': 'HUP', 'reload-pid': '42' }, '/')).toEqual({ signal: 'SIGHUP', pid: 42 });
    expect(reloadOption({ 'reload-signal': 'SIGUSR1', 'reload-pid-file': 'run/app.pid' }, '/srv')).toEqual({ signal: 'SIGUSR1', pidFile: '/srv/run/app.pid' });
    expect(reloadOption({}, '/')).toBeUndefined();
  });

  it.each([
    { flags: { 'reload-cmd': 'x', 'reload-signal': 'HUP' }, message: /cannot be combined/ },
    { flags: { 'reload-pid': '42' }, message: /need --reload-signal/ },
    { flags: { 'reload-signal': 'HUP' }, message: /exactly one of --reload-pid PID and --reload-pid-file FILE/ },
    { flags: { 'reload-signal': 'HUP', 'reload-pid': '1' }, message: /must be a process id/ },
    { flags: { 'reload-signal': 'SIGNOPE', 'reload-pid': '42' }, message: /is not a signal name/ },
  ])('refuses the reload flags $flags', ({ flags, message }) => {
    expect(refusal(() => reloadOption(flags, '/'))).toMatch(message);
  });
});
