// The operator CLI against the running system: real processes, a real Redis, the CLI as a child
// process exactly as an operator runs it, and openssl judging what it writes.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@fsm-certs/queue';
import { eventually, startHarness, type Harness } from './harness.js';
import { setRenewAt } from './inventory-time.js';
import { opensslVerify, opensslX509 } from '@fsm-certs/testing';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const work = mkdtempSync(path.join(tmpdir(), 'fsm-cli-e2e-'));

interface CliRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

describe('the fsm-certs CLI against a running system', () => {
  let h: Harness;
  let env: NodeJS.ProcessEnv;

  function start(args: readonly string[], extraEnv: NodeJS.ProcessEnv = {}): { child: ReturnType<typeof spawn>; done: Promise<CliRun>; stdout: () => string; stderr: () => string } {
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=development', 'apps/cli/src/main.ts', ...args], {
      cwd: repoRoot,
      env: { ...env, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const done = new Promise<CliRun>((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
    return { child, done, stdout: () => stdout, stderr: () => stderr };
  }

  // Async, not spawnSync: the stack's own processes must keep running while the CLI waits on them.
  const cli = (args: readonly string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<CliRun> => start(args, extraEnv).done;

  beforeAll(async () => {
    // No rotation-worker: a certificate moved past its renew time must stay there for `check`.
    h = await startHarness({ rotationWorkers: 0 });
    env = { ...process.env, FSM_CERTS_SERVER: h.stack.gatewayUrl, FSM_CERTS_TOKEN: h.stack.adminToken, FSM_DATA_DIR: '' };
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('check exits 0 with an "ok:" line on a fresh system', async () => {
    const result = await cli(['check']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^ok: root fsm-ca\.flomesh\.io valid until \S+ \(36\d\d days\); 0 certificates, none past its renew time\n$/);
  });

  it('ca dates and ca show print what openssl x509 -noout -dates / -text -fingerprint -sha256 print for GET /v1/ca', async () => {
    const rootPem = await h.client.trustBundlePem();
    const dates = await cli(['ca', 'dates']);
    expect(dates.status).toBe(0);
    expect(dates.stdout).toBe(opensslX509(rootPem, ['-dates']));
    const show = await cli(['ca', 'show']);
    expect(show.status).toBe(0);
    expect(show.stdout).toBe(opensslX509(rootPem, ['-text', '-fingerprint', '-sha256']));
  });

  it('cert issue writes cert.pem, a 0600 key.pem, ca.pem and chain.pem that openssl verifies', async () => {
    const out = path.join(work, 'bookstore');
    const result = await cli(['cert', 'issue', 'bookstore-v1.bookstore.cluster.local', '--out', out, '--san', 'bookstore-v1.bookstore.svc', '--spiffe', '--validity', '2h']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^wrote .*cert\.pem, .*key\.pem, .*ca\.pem, .*chain\.pem \(CN=bookstore-v1\.bookstore\.cluster\.local, serial=[0-9a-f]+, /);
    const cert = readFileSync(path.join(out, 'cert.pem'), 'utf8');
    const ca = readFileSync(path.join(out, 'ca.pem'), 'utf8');
    expect(opensslVerify(cert, ca).ok).toBe(true);
    expect(ca.trim()).toBe((await h.client.trustBundlePem()).trim());
    expect(readFileSync(path.join(out, 'chain.pem'), 'utf8').startsWith(cert)).toBe(true);
    expect(statSync(path.join(out, 'key.pem')).mode & 0o777).toBe(0o600);
    const text = opensslX509(cert, ['-text']);
    expect(text).toContain('DNS:bookstore-v1.bookstore.svc');
    expect(text).toContain('URI:spiffe://cluster.local/ns/bookstore/sa/bookstore-v1');
    const keyPub = await opensslPublicKey(path.join(out, 'key.pem'));
    expect(keyPub).toBe(opensslX509(cert, ['-pubkey']));
  });

  it('cert issue prints the gateway\'s warning when the root caps the validity', async () => {
    const out = path.join(work, 'capped');
    const result = await cli(['cert', 'issue', 'capped.bookstore.cluster.local', '--out', out, '--validity', '175200h']);
    expect(result.status).toBe(0);
    const rootEnd = opensslX509(await h.client.trustBundlePem(), ['-enddate']);
    expect(opensslX509(readFileSync(path.join(out, 'cert.pem'), 'utf8'), ['-enddate'])).toBe(rootEnd);
    expect(result.stdout.split('\n')).toContainEqual(expect.stringMatching(/^warning: validity capped at the root's expiry /));
    // Leave the inventory as the later tests count it.
    expect((await cli(['cert', 'release', 'capped.bookstore.cluster.local'])).status).toBe(0);
  });

  it('cert issue --csr writes no key.pem and the certificate carries the CSR key', async () => {
    const out = path.join(work, 'from-csr');
    const keyFile = path.join(work, 'workload.key');
    const csrFile = path.join(work, 'workload.csr');
    await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', csrFile, '-subj', '/CN=ignored.example']);
    const result = await cli(['cert', 'issue', 'bookbuyer.bookbuyer.cluster.local', '--out', out, '--csr', csrFile]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(() => statSync(path.join(out, 'key.pem'))).toThrow();
    const cert = readFileSync(path.join(out, 'cert.pem'), 'utf8');
    expect(opensslVerify(cert, readFileSync(path.join(out, 'ca.pem'), 'utf8')).ok).toBe(true);
    expect(await opensslPublicKey(keyFile)).toBe(opensslX509(cert, ['-pubkey']));
  });

  it('cert list shows every issued name; cert get the stored serial', async () => {
    const list = await cli(['cert', 'list']);
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(/^NAME\s+SERIAL\s+NOT AFTER\s+RENEW AT\s+STATE\n/);
    expect(list.stdout).toMatch(/\nbookbuyer\.bookbuyer\.cluster\.local\s+[0-9a-f]+\s+\S+\s+\S+\s+ok\n/);
    expect(list.stdout).toMatch(/\nbookstore-v1\.bookstore\.cluster\.local\s+[0-9a-f]+\s+\S+\s+\S+\s+ok\n/);
    const json = await cli(['cert', 'list', '--json', '--limit', '1']);
    expect((JSON.parse(json.stdout) as Array<{ commonName: string }>).map((c) => c.commonName)).toEqual(['bookbuyer.bookbuyer.cluster.local']);
    const stored = await h.client.get('bookstore-v1.bookstore.cluster.local');
    const get = await cli(['cert', 'get', 'bookstore-v1.bookstore.cluster.local']);
    expect(get.status).toBe(0);
    expect(get.stdout).toContain(`Serial:        ${stored.serialNumber}`);
  });

  it('events replays from --from, prints one line for a new issuance and stops on Ctrl-C with exit 0', async () => {
    // From the stream's start: the line for the issuance below arrives whether it lands before or
    // after the follower's stream is open.
    const follower = start(['events', '--from', '0-0']);
    await eventually(async () => (follower.stderr().includes('following events') ? true : undefined), 30_000, 'the events follower to connect');
    const issued = await h.client.issue({ commonName: 'ratings.bookstore.cluster.local', validity: '1h' });
    const line = await eventually(
      async () => follower.stdout().split('\n').find((l) => l.includes('ratings.bookstore.cluster.local')),
      30_000,
      'the issued line',
    );
    expect(line).toMatch(new RegExp(`^\\d+-\\d+\\s+issued\\s+ratings\\.bookstore\\.cluster\\.local\\s+serial=${issued.serialNumber}\\s`));
    expect(follower.stdout()).toMatch(/^\d+-\d+\s+issued\s+bookstore-v1\.bookstore\.cluster\.local\s+serial=[0-9a-f]+\s+notAfter=/m);
    follower.child.kill('SIGINT');
    const result = await follower.done;
    expect(result.status).toBe(0);
  });

  it('check exits 1 with a clear line once a certificate is past its renew time', async () => {
    await setRenewAt(h.stack.redisUrl, 'bookstore-v1.bookstore.cluster.local', new Date(Date.now() - 3_600_000));
    const result = await cli(['check']);
    expect(result.status).toBe(1);
    const lines = result.stdout.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^problem: certificate bookstore-v1\.bookstore\.cluster\.local \(serial [0-9a-f]+\) is 1h0m\d+s past its renew time .*run fsm-certs cert rotate bookstore-v1\.bookstore\.cluster\.local$/);
    const state = await cli(['cert', 'list']);
    expect(state.stdout).toMatch(/\nbookstore-v1\.bookstore\.cluster\.local\s+.*renew-due\n/);
  });

  it('cert rotate replaces the overdue certificate, after which check is ok again', async () => {
    const before = await h.client.get('bookstore-v1.bookstore.cluster.local');
    const rotated = await cli(['cert', 'rotate', 'bookstore-v1.bookstore.cluster.local']);
    expect(rotated.status).toBe(0);
    const after = await h.client.get('bookstore-v1.bookstore.cluster.local');
    expect(after.serialNumber).not.toBe(before.serialNumber);
    expect(rotated.stdout).toContain(`rotated bookstore-v1.bookstore.cluster.local: serial=${after.serialNumber}`);
    const result = await cli(['check']);
    expect(result.stdout).toMatch(/^ok: .* 3 certificates, none past its renew time\n$/);
    expect(result.status).toBe(0);
  });

  it('cert release removes the name; the gateway then refuses it with exit 1 and its code', async () => {
    const released = await cli(['cert', 'release', 'ratings.bookstore.cluster.local']);
    expect(released.status).toBe(0);
    const get = await cli(['cert', 'get', 'ratings.bookstore.cluster.local']);
    expect(get.status).toBe(1);
    expect(get.stderr).toMatch(/^fsm-certs: CERTIFICATE_NOT_FOUND: .+\n$/);
  });

  it('a wrong token is a refusal (exit 1) and a dead gateway is unreachable (exit 3)', async () => {
    const denied = await cli(['cert', 'list'], { FSM_CERTS_TOKEN: 'not-the-token-at-all' });
    expect(denied.status).toBe(1);
    expect(denied.stderr).toMatch(/^fsm-certs: UNAUTHENTICATED: .*check --token \/ FSM_CERTS_TOKEN\)\n$/);
    const closedPort = await freePort();
    const dead = await cli(['cert', 'list'], { FSM_CERTS_SERVER: `http://127.0.0.1:${closedPort}` });
    expect(dead.status).toBe(3);
    expect(dead.stderr).toBe(
      `fsm-certs: GATEWAY_UNREACHABLE: cannot reach the gateway at http://127.0.0.1:${closedPort} (ECONNREFUSED, from FSM_CERTS_SERVER); is it running (\`npm start\`) and is the URL right?\n`,
    );
  });

  it('finds the gateway and token through endpoint.json as written by npm start', async () => {
    const dataDir = path.join(work, 'data');
    const caFile = path.join(work, 'ca.crt');
    writeFileSync(caFile, await h.client.trustBundlePem());
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(path.join(dataDir, 'endpoint.json'), JSON.stringify({ gatewayUrl: h.stack.gatewayUrl, adminToken: h.stack.adminToken, caFile }));
    const result = await cli(['cert', 'get', 'bookbuyer.bookbuyer.cluster.local', '--json'], { FSM_CERTS_SERVER: '', FSM_CERTS_TOKEN: '', FSM_DATA_DIR: dataDir });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect((JSON.parse(result.stdout) as { commonName: string }).commonName).toBe('bookbuyer.bookbuyer.cluster.local');
  });
});

function run(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('close', (status) => (status === 0 ? resolve(out) : reject(new Error(`${command} ${args.join(' ')} failed: ${err}`))));
  });
}

function opensslPublicKey(keyFile: string): Promise<string> {
  return run('openssl', ['pkey', '-in', keyFile, '-pubout']);
}
