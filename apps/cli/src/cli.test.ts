import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const main = path.join(path.dirname(fileURLToPath(import.meta.url)), 'main.ts');
const work = mkdtempSync(path.join(tmpdir(), 'fsm-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function cli(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=development', main, ...args], {
    encoding: 'utf8',
    // tsx resolves from the working directory; every path passed is absolute.
    cwd: path.dirname(path.dirname(main)),
    env: { ...process.env, ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function openssl(args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

const caDir = path.join(work, 'ca');
beforeAll(() => {
  const result = cli(['ca', 'create', '--out', caDir]);
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
});

describe('fsm-certs ca create', () => {
  it('writes ca.crt and a 0600 private.key that openssl reads as a matching CA', () => {
    const text = openssl(['x509', '-in', path.join(caDir, 'ca.crt'), '-text', '-noout']);
    expect(text).toMatch(/Subject: .*CN\s*=\s*fsm-ca\.flomesh\.io/);
    expect(text).toContain('CA:TRUE');
    expect(statSync(path.join(caDir, 'private.key')).mode & 0o777).toBe(0o600);
    const fromCert = openssl(['x509', '-in', path.join(caDir, 'ca.crt'), '-noout', '-pubkey']);
    const fromKey = openssl(['pkey', '-in', path.join(caDir, 'private.key'), '-pubout']);
    expect(fromKey).toBe(fromCert);
  });

  it('makes an RSA root with the requested validity', () => {
    const dir = path.join(work, 'rsa-ca');
    expect(cli(['ca', 'create', '--out', dir, '--key', 'rsa-2048', '--validity', '8760h']).status).toBe(0);
    const text = openssl(['x509', '-in', path.join(dir, 'ca.crt'), '-text', '-noout']);
    expect(text).toContain('Public-Key: (2048 bit)');
    const end = openssl(['x509', '-in', path.join(dir, 'ca.crt'), '-noout', '-enddate']).trim().replace('notAfter=', '');
    const days = (new Date(end).getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(364);
    expect(days).toBeLessThan(366);
  });

  it('refuses to overwrite an existing CA without --force', () => {
    const result = cli(['ca', 'create', '--out', caDir]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^fsm-certs: CLI_INVALID_INPUT: ca\.crt, private\.key already exist\(s\) in .*; choose another --out or pass --force\n$/);
  });
});

describe('fsm-certs cert create', () => {
  it('issues a server-key certificate that openssl verifies against ca.pem', () => {
    const out = path.join(work, 'bookstore');
    const result = cli(['cert', 'create', 'bookstore-v2.bookstore.cluster.local', '--ca-dir', caDir, '--san', 'bookstore-v2.bookstore.svc', '--san', 'spiffe://cluster.local/ns/bookstore/sa/bookstore-v2', '--san', '10.0.0.7', '--out', out]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(openssl(['verify', '-CAfile', path.join(out, 'ca.pem'), path.join(out, 'cert.pem')])).toContain(': OK');
    const text = openssl(['x509', '-in', path.join(out, 'cert.pem'), '-text', '-noout']);
    expect(text).toContain('DNS:bookstore-v2.bookstore.cluster.local');
    expect(text).toContain('DNS:bookstore-v2.bookstore.svc');
    expect(text).toContain('URI:spiffe://cluster.local/ns/bookstore/sa/bookstore-v2');
    expect(text).toContain('IP Address:10.0.0.7');
    expect(statSync(path.join(out, 'key.pem')).mode & 0o777).toBe(0o600);
    expect(openssl(['pkey', '-in', path.join(out, 'key.pem'), '-pubout'])).toBe(openssl(['x509', '-in', path.join(out, 'cert.pem'), '-noout', '-pubkey']));
  });

  it('signs a CSR made by openssl and writes no key.pem', () => {
    const out = path.join(work, 'from-csr');
    const keyFile = path.join(work, 'workload.key');
    const csrFile = path.join(work, 'workload.csr');
    openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', csrFile, '-subj', '/CN=ignored.example']);
    const result = cli(['cert', 'create', 'bookbuyer.bookbuyer.cluster.local', '--ca-dir', caDir, '--csr', csrFile, '--out', out, '--validity', '1h30m']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(openssl(['verify', '-CAfile', path.join(out, 'ca.pem'), path.join(out, 'cert.pem')])).toContain(': OK');
    expect(() => statSync(path.join(out, 'key.pem'))).toThrow();
    expect(openssl(['pkey', '-in', keyFile, '-pubout'])).toBe(openssl(['x509', '-in', path.join(out, 'cert.pem'), '-noout', '-pubkey']));
    expect(openssl(['x509', '-in', path.join(out, 'cert.pem'), '-noout', '-subject'])).toMatch(/CN\s*=\s*bookbuyer\.bookbuyer\.cluster\.local/);
  });

  const bad: Array<{ name: string; args: () => string[]; message: RegExp }> = [
    {
      name: 'a missing CA',
      args: () => ['cert', 'create', 'a.example', '--ca-dir', path.join(work, 'nope'), '--out', path.join(work, 'x1')],
      message: /^fsm-certs: CLI_INVALID_INPUT: CA certificate not found: .*nope\/ca\.crt; create one with: fsm-certs ca create --out .*nope\n$/,
    },
    {
      name: 'a bad duration',
      args: () => ['cert', 'create', 'a.example', '--ca-dir', caDir, '--validity', '1 day', '--out', path.join(work, 'x2')],
      message: /^fsm-certs: CLI_INVALID_INPUT: --validity: invalid duration "1 day".*Go duration syntax.*\n$/,
    },
    {
      name: 'a validity under 10 minutes',
      args: () => ['cert', 'create', 'a.example', '--ca-dir', caDir, '--validity', '5m', '--out', path.join(work, 'x3')],
      message: /^fsm-certs: .*10 minute minimum.*\n$/,
    },
    {
      name: 'a CSR that is not a CSR',
      args: () => {
        writeFileSync(path.join(work, 'bad.csr'), 'garbage');
        return ['cert', 'create', 'a.example', '--ca-dir', caDir, '--csr', path.join(work, 'bad.csr'), '--out', path.join(work, 'x4')];
      },
      message: /^fsm-certs: CLI_INVALID_INPUT: CSR .*bad\.csr rejected: .*\n$/,
    },
    {
      name: 'an unsupported key algorithm',
      args: () => ['cert', 'create', 'a.example', '--ca-dir', caDir, '--key', 'dsa', '--out', path.join(work, 'x5')],
      message: /^fsm-certs: CLI_INVALID_INPUT: --key "dsa" is not supported; use one of ecdsa-p256, rsa-2048, rsa-3072, rsa-4096\n$/,
    },
    {
      name: 'an unknown option',
      args: () => ['cert', 'create', 'a.example', '--bogus'],
      message: /^fsm-certs: CLI_INVALID_INPUT: Unknown option '--bogus'.*see fsm-certs --help\n$/,
    },
  ];
  it.each(bad)('exits 2 with one line for $name', ({ args, message }) => {
    const result = cli(args());
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});

describe('fsm-certs inspect', () => {
  it('prints exactly what openssl x509 -noout -text -fingerprint -sha256 prints: critical markers, public key, signature', () => {
    const result = cli(['inspect', path.join(caDir, 'ca.crt')]);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(openssl(['x509', '-in', path.join(caDir, 'ca.crt'), '-noout', '-text', '-fingerprint', '-sha256']));
    expect(result.stdout).toContain('X509v3 Basic Constraints: critical');
  });

  it('prints the same dates as openssl x509 -dates', () => {
    const result = cli(['inspect', path.join(caDir, 'ca.crt'), '--dates']);
    expect(result.stdout).toBe(openssl(['x509', '-in', path.join(caDir, 'ca.crt'), '-noout', '-dates']));
  });

  it('prints JSON with --json', () => {
    const result = cli(['inspect', path.join(caDir, 'ca.crt'), '--json']);
    const info = JSON.parse(result.stdout) as { commonName: string; isCA: boolean; notAfter: string };
    expect(info).toMatchObject({ commonName: 'fsm-ca.flomesh.io', isCA: true });
    expect(Number.isNaN(Date.parse(info.notAfter))).toBe(false);
  });

  it('exits 2 when the file is not a certificate', () => {
    writeFileSync(path.join(work, 'not-a-cert.pem'), 'hello');
    const result = cli(['inspect', path.join(work, 'not-a-cert.pem')]);
    expect(result.status).toBe(2);
    expect(result.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  });
});

describe('fsm-certs help', () => {
  it('prints usage with --help and exits 0', () => {
    const result = cli(['--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('fsm-certs ca create --out DIR');
  });

  it('exits 2 on an unknown command', () => {
    const result = cli(['frobnicate']);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe('fsm-certs: CLI_INVALID_INPUT: unknown command "frobnicate"; see fsm-certs --help\n');
  });
});
