// The workload agent against the running system (Redis, ca-service, issuer-gateway and
// rotation-worker as processes): its files are what openssl and real TLS accept, it follows
// rotations and renews on its own clock, runs its reload hook, and rides out a gateway outage.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@fsm-certs/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, type AgentHealth, type WrittenEvent } from '@fsm-certs/agent';
import { AgentFixtures, mutualTls, onDisk, opensslVerifyFiles, WORKLOAD_TOKEN, WORKLOAD_TOKENS_ENV } from './agent-fixtures.js';
import { eventually, startHarness, type Harness } from './harness.js';
import { pullRenewAtToNow } from './inventory-time.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

/** A child process; its output is collected as it comes. */
function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env) {
  const child = spawn(command, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, output, exited };
}

describe('fsm-certs agent with the running system', () => {
  let h: Harness;
  let agents: AgentFixtures;

  beforeAll(async () => {
    h = await startHarness({ env: { GATEWAY_TOKENS: WORKLOAD_TOKENS_ENV } });
    agents = new AgentFixtures(h.stack.gatewayUrl);
  }, 120_000);
  afterAll(async () => {
    await agents?.close();
    await h?.close();
  });

  it('writes cert.pem, key.pem (0600) and ca.pem that openssl verifies and that carry mutual TLS between two workloads', async () => {
    const server = await agents.start({ commonName: 'web.bookstore.cluster.local' });
    const client = await agents.start({ commonName: 'buyer.bookstore.cluster.local', keyMode: 'server', keyAlgorithm: 'rsa-2048' });
    const serverFiles = await eventually(() => onDisk(server.dir), 30_000, 'the server agent to write its files');
    const clientFiles = await eventually(() => onDisk(client.dir), 30_000, 'the client agent to write its files');

    expect(statSync(path.join(server.dir, 'key.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(client.dir, 'key.pem')).mode & 0o777).toBe(0o600);
    for (const dir of [server.dir, client.dir]) {
      const verified = opensslVerifyFiles(dir);
      expect(verified.ok, verified.output).toBe(true);
      expect(verified.output).toBe(`${path.join(dir, 'cert.pem')}: OK`);
    }
    expect(readFileSync(path.join(server.dir, 'ca.pem'), 'utf8')).toBe(await h.client.trustBundlePem().then((pem) => (pem.endsWith('\n') ? pem : `${pem}\n`)));

    const exchange = await mutualTls(serverFiles, clientFiles, 'web.bookstore.cluster.local');
    expect(exchange).toEqual({ clientSaw: 'web.bookstore.cluster.local', serverSaw: 'buyer.bookstore.cluster.local', reply: 'hello buyer.bookstore.cluster.local' });

    const health = (await (await fetch(`${server.agent.healthUrl ?? ''}/healthz`)).json()) as AgentHealth;
    expect(health).toMatchObject({ status: 'ok', commonName: 'web.bookstore.cluster.local', lastError: null, gateway: { reachable: true } });
    expect(health.certificate?.serialNumber).toBe(serverFiles.serialNumber);
    expect(health.certificate?.remainingSeconds).toBeGreaterThan(3_600);
  });

  it.each([
    { keyMode: 'csr' as const, keyKept: true },
    { keyMode: 'server' as const, keyKept: false },
  ])('takes the certificate of a manual rotation ($keyMode key) and runs the reload hook for it', async ({ keyMode, keyKept }) => {
    const commonName = `rotate-${keyMode}.bookstore.cluster.local`;
    const hookLog = path.join(agents.tempDir(), 'hook.log');
    const a = await agents.start({ commonName, keyMode, reload: { command: `printf '%s %s\\n' "$FSM_CERTS_SERIAL" "$FSM_CERTS_CHANGED" >> '${hookLog}'` } });
    const before = await eventually(() => onDisk(a.dir), 30_000, 'the first files');
    await eventually(async () => (existsSync(hookLog) && readFileSync(hookLog, 'utf8').includes(before.serialNumber) ? true : undefined), 30_000, 'the hook to run for the first certificate');

    const rotated = await h.client.rotate(commonName);
    const hookLine = await eventually(
      async () => readFileSync(hookLog, 'utf8').split('\n').find((line) => line.startsWith(`${rotated.serialNumber} `)),
      30_000,
      'the hook to run for the rotated certificate',
    );
    const after = await onDisk(a.dir);
    expect(after?.serialNumber).toBe(rotated.serialNumber);
    expect(after?.key === before.key).toBe(keyKept);
    expect(hookLine).toBe(`${rotated.serialNumber} ${keyKept ? 'cert' : 'cert,key'}`);
    expect(opensslVerifyFiles(a.dir).ok).toBe(true);
  });

  it("renews at the certificate's renewAt on the agent's clock, with a new key", async () => {
    const clock = new ManualClock(Date.now());
    const a = await agents.start({ commonName: 'renew.bookstore.cluster.local', validity: '1h', clock });
    const first = await eventually(() => onDisk(a.dir), 30_000, 'the first files');
    const renewAt = await eventually(async () => a.agent.health().certificate?.renewAt ?? undefined, 30_000, 'the gateway to confirm renewAt');
    const renewAtMs = Date.parse(renewAt);
    // The gateway puts renewAt in the last third of the life, less up to half of that as jitter.
    expect(renewAtMs - clock.now()).toBeGreaterThan(30 * 60_000 - 60_000);

    clock.set(renewAtMs);
    const renewed = await eventually(async () => {
      const now = await onDisk(a.dir);
      return now !== undefined && now.serialNumber !== first.serialNumber ? now : undefined;
    }, 30_000, 'the agent to renew at renewAt');
    expect(renewed.key).not.toBe(first.key);
    expect(opensslVerifyFiles(a.dir).ok).toBe(true);
    expect((await h.client.get('renew.bookstore.cluster.local')).serialNumber).toBe(renewed.serialNumber);
  });

  it('keeps serving its files while the gateway is down, reports it in /healthz, and takes what it missed once the gateway is back', async () => {
    const commonName = 'outage.bookstore.cluster.local';
    const a = await agents.start({ commonName, validity: '1h' });
    const before = await eventually(() => onDisk(a.dir), 30_000, 'the first files');
    await eventually(async () => (a.agent.health().events.connected ? true : undefined), 30_000, 'the event stream');
    const gateway = h.stack.app('issuer-gateway');
    await gateway.stop();
    try {
      const down = await eventually(async () => {
        const res = await fetch(`${a.agent.healthUrl ?? ''}/healthz`);
        const health = (await res.json()) as AgentHealth;
        return res.status === 200 && health.lastError?.code === 'GATEWAY_UNREACHABLE' ? health : undefined;
      }, 30_000, '/healthz to report the unreachable gateway');
      expect(down).toMatchObject({ status: 'ok', gateway: { reachable: false }, events: { connected: false } });
      expect(down.certificate?.serialNumber).toBe(before.serialNumber);
      expect(a.logs.some((line) => line.includes('keeping the current files'))).toBe(true);

      // Meanwhile the rotation-worker renews it (the ca-service does not need the gateway).
      await pullRenewAtToNow(h.stack.redisUrl, commonName);
      const { Redis } = await import('ioredis');
      const { Inventory } = await import('@fsm-certs/queue');
      const redis = new Redis(h.stack.redisUrl);
      try {
        await eventually(async () => {
          const record = await new Inventory(redis).get(commonName);
          return record !== undefined && record.serialNumber !== before.serialNumber ? true : undefined;
        }, 30_000, 'the rotation-worker to rotate the certificate while the gateway is down');
      } finally {
        redis.disconnect();
      }
      expect((await onDisk(a.dir))?.serialNumber).toBe(before.serialNumber);
    } finally {
      if (!gateway.running) gateway.restart();
    }
    await h.stack.waitReady(60_000);
    const current = await h.client.get(commonName);
    await eventually(async () => ((await onDisk(a.dir))?.serialNumber === current.serialNumber ? true : undefined), 30_000, 'the agent to take the rotated certificate');
    await eventually(async () => {
      const health = a.agent.health();
      return health.lastError === null && health.events.connected && health.gateway.reachable ? true : undefined;
    }, 30_000, 'the agent to report a healthy connection again');
    expect(opensslVerifyFiles(a.dir).ok).toBe(true);
  });

  it('reads its token file again for every request: a bad token shows in /healthz until the good one is back', async () => {
    const a = await agents.start({ commonName: 'token.bookstore.cluster.local' });
    await eventually(() => onDisk(a.dir), 30_000, 'the first files');
    const good = readFileSync(a.tokenFile, 'utf8');
    writeFileSync(a.tokenFile, 'not-a-token-the-gateway-knows\n');
    const sync = a.agent.syncNow('renew');
    await eventually(async () => (a.agent.health().lastError?.code === 'UNAUTHENTICATED' ? true : undefined), 30_000, 'the 401 to show in health');
    writeFileSync(a.tokenFile, good);
    const synced = await sync;
    expect(synced.outcome).toBe('issued');
    expect(a.agent.health().lastError).toBeNull();
  });

  it('never lets a workload reading the directory see a key and certificate that do not belong together while the agent renews 50 times', async () => {
    const a = await agents.start({ commonName: 'reader.bookstore.cluster.local' });
    await eventually(() => onDisk(a.dir), 30_000, 'the first files');
    const stopFile = path.join(agents.tempDir(), 'stop');
    const reader = run(process.execPath, ['--import', 'tsx', '--conditions=development', fileURLToPath(new URL('./agent-reader.test-helpers.ts', import.meta.url)), a.dir, stopFile]);
    await eventually(async () => (reader.output.stdout.includes('ready') ? true : undefined), 30_000, 'the reader to start');
    let renewals = 0;
    const readsSoFar = (): number => Number([...reader.output.stdout.matchAll(/progress (\d+)/g)].at(-1)?.[1] ?? 0);
    // At least 50 renewals and 500 reads (bounded: 500 renewals at most).
    while ((renewals < 50 || readsSoFar() < 500) && renewals < 500 && reader.child.exitCode === null) {
      const synced = await a.agent.syncNow('renew');
      expect(synced.outcome).toBe('issued');
      renewals += 1;
    }
    writeFileSync(stopFile, '');
    expect(await reader.exited, reader.output.stderr).toBe(0);
    const summary = JSON.parse(reader.output.stdout.trim().split('\n').at(-1) ?? '{}') as { reads: number; mismatched: number; partial: number; generations: number; problems: string[] };
    expect(summary.problems).toEqual([]);
    expect(summary.mismatched).toBe(0);
    expect(summary.partial).toBe(0);
    expect(summary.reads).toBeGreaterThanOrEqual(500);
    expect(summary.generations).toBeGreaterThanOrEqual(10);
  });

  it('runs as node_modules/.bin/fsm-certs agent: files, /healthz, SIGHUP to the workload from its pid file on every change, exit 0 on SIGTERM', async () => {
    const home = agents.tempDir();
    const dir = path.join(home, 'certs');
    const tokenFile = path.join(home, 'token');
    writeFileSync(tokenFile, `${WORKLOAD_TOKEN}\n`);
    const hups = path.join(home, 'hups');
    const pidFile = path.join(home, 'workload.pid');
    const workload = run(process.execPath, ['-e', `require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); process.on('SIGHUP', () => require('fs').appendFileSync(${JSON.stringify(hups)}, 'HUP\\n')); setInterval(() => {}, 1000);`]);
    try {
      await eventually(async () => (existsSync(pidFile) ? true : undefined), 30_000, 'the workload to write its pid file');
      const port = await freePort();
      const commonName = 'sidecar.bookstore.cluster.local';
      const agent = run(path.join(repoRoot, 'node_modules', '.bin', 'fsm-certs'), [
        'agent', '--gateway', h.stack.gatewayUrl, '--token-file', tokenFile, '--dir', dir, '--name', commonName,
        '--reload-signal', 'SIGHUP', '--reload-pid-file', pidFile, '--health-addr', `127.0.0.1:${port}`,
      ]);
      try {
        const first = await eventually(() => onDisk(dir), 60_000, 'the agent process to write its files');
        await eventually(async () => (existsSync(hups) && readFileSync(hups, 'utf8') === 'HUP\n' ? true : undefined), 30_000, 'the first SIGHUP');
        // Healthy, serving what is on disk, and following events (so the rotation below is heard).
        const health = await eventually(async () => {
          const res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
          const body = res?.status === 200 ? ((await res.json()) as AgentHealth) : undefined;
          return body?.events.connected === true ? body : undefined;
        }, 30_000, '/healthz to report a certificate and a connected event stream');
        expect(health.certificate?.serialNumber).toBe(first.serialNumber);
        const rotated = await h.client.rotate(commonName);
        await eventually(async () => ((await onDisk(dir))?.serialNumber === rotated.serialNumber ? true : undefined), 30_000, 'the rotated certificate');
        await eventually(async () => (readFileSync(hups, 'utf8') === 'HUP\nHUP\n' ? true : undefined), 30_000, 'the SIGHUP for the rotation');
        expect(opensslVerifyFiles(dir).ok).toBe(true);
      } finally {
        agent.child.kill('SIGTERM');
      }
      expect(await agent.exited, agent.output.stderr).toBe(0);
      const lines = agent.output.stderr.trim().split('\n').map((line) => JSON.parse(line) as { msg: string });
      expect(lines.at(-1)?.msg).toBe('agent stopped; the files stay in place');
      expect(existsSync(path.join(dir, 'cert.pem'))).toBe(true);
    } finally {
      workload.child.kill('SIGKILL');
    }
  });

  it('writes the new trust bundle before a leaf from the new root when the root is replaced (delete fsm-ca-bundle, restart ca-service)', async () => {
    const commonName = 'reroot.bookstore.cluster.local';
    const hookLog = path.join(agents.tempDir(), 'hook.log');
    const a = await agents.start({ commonName, reload: { command: `printf '%s %s\\n' "$FSM_CERTS_SERIAL" "$FSM_CERTS_CHANGED" >> '${hookLog}'` } });
    // Listening from the start: the files appear on disk before the agent reports the write (it
    // still syncs the directory), so a listener added once they are seen may or may not hear it.
    const written: WrittenEvent[] = [];
    a.agent.on('written', (event) => written.push(event));
    const first = await eventually(async () => written[0], 30_000, "the agent's report of its first files");
    const before = await onDisk(a.dir);
    if (before === undefined) throw new Error('the agent reported its first files, but the directory holds none');
    expect(before.serialNumber).toBe(first.serialNumber);
    await eventually(async () => (a.agent.health().events.connected ? true : undefined), 30_000, 'the event stream');

    const ca = h.stack.app('ca-service');
    await ca.stop();
    rmSync(path.join(h.stack.dataDir, 'secrets', 'fsm-system', 'fsm-ca-bundle.json'));
    ca.restart();
    const after = await eventually(async () => {
      const now = await onDisk(a.dir);
      return now !== undefined && now.ca !== before.ca && now.serialNumber !== before.serialNumber ? now : undefined;
    }, 60_000, 'the agent to follow the new root');
    // The files change on disk just before the agent reports the write: wait for its report.
    await eventually(async () => (written.slice(1).some((w) => w.changed.includes('cert')) ? true : undefined), 30_000, "the agent's report of the new leaf");

    expect(written.map((w) => w.changed)).toEqual([['cert', 'key', 'ca'], ['ca'], ['cert', 'key']]);
    expect(written[1]?.serialNumber).toBe(before.serialNumber);
    expect(written[2]?.serialNumber).toBe(after.serialNumber);
    expect(opensslVerifyFiles(a.dir).ok).toBe(true);
    await eventually(async () => (readFileSync(hookLog, 'utf8').includes(`${after.serialNumber} ca,cert,key`) ? true : undefined), 30_000, 'the hook for the new root');
  });
});
