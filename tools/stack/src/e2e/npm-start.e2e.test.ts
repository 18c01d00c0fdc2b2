// `npm start` from the outside: its own output, its exit code, endpoint.json, and the processes
// it leaves (or must not leave) behind — with real kill -9s, a real port conflict and a real
// crash loop.
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayClient, type CertificateResponse } from '@fsm-certs/client';
import { freePort } from '@fsm-certs/queue';
import { eventually, opensslVerify } from '@fsm-certs/testing';
import { startNpmStart, type NpmStart } from './npm-start.js';

const READY = /^fsm-certs is ready\.$/;

describe('npm start when another server holds the gateway port', () => {
  let impostor: Server;
  let port: number;
  let run: NpmStart | undefined;

  beforeAll(async () => {
    port = await freePort();
    // Answers everything with 200, /readyz included, as an earlier `npm start` would.
    impostor = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ready"}'));
    await new Promise<void>((resolve) => impostor.listen(port, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    run?.destroy();
    await new Promise((resolve) => impostor.close(resolve));
  });

  it('fails with exit 1 and a message naming the port and what to do, writes no endpoint.json and leaves no process behind', async () => {
    run = startNpmStart({ GATEWAY_PORT: String(port) });
    const code = await run.exited;
    const output = run.lines.join('\n');
    expect(output).toContain(`fsm-certs: GATEWAY_PORT_IN_USE: port ${port} on 127.0.0.1 is already in use by another process`);
    expect(output).toMatch(/GATEWAY_PORT=<free port> npm start/);
    expect(output).not.toMatch(READY);
    expect(code).toBe(1);
    expect(run.endpointWritten()).toBe(false);
    await noProcessLeft(run);
  }, 180_000);
});

describe('npm start supervising its processes', () => {
  let run: NpmStart;
  let client: GatewayClient;
  let rootPem: string;

  beforeAll(async () => {
    run = startNpmStart({ GATEWAY_PORT: String(await freePort()) });
    await run.waitForLine(READY);
    const endpoint = run.endpoint();
    client = new GatewayClient({ baseUrl: endpoint.gatewayUrl, token: endpoint.adminToken });
    rootPem = readFileSync(endpoint.caFile, 'utf8');
  }, 180_000);
  afterAll(() => run?.destroy());

  it('restarts ca-service after a kill -9, says so in one line, and issues again', async () => {
    const pid = run.pids().get('ca-service');
    if (pid === undefined) throw new Error('no ca-service pid in the banner');
    process.kill(pid, 'SIGKILL');
    const line = await run.waitForLine(new RegExp(`^fsm-certs: ca-service \\(pid ${pid}\\) was killed by SIGKILL; restarting it in \\d+ ms \\(attempt 1\\)$`));
    expect(line).toBeDefined();
    const cert = await issuedEventually(client, 'after-ca-crash.cluster.local');
    expect(opensslVerify(cert.certificate, rootPem, { chainPem: cert.chain }).ok).toBe(true);
    expect(run.lines.filter((l) => l.includes('ca-service') && l.includes('restarting it'))).toHaveLength(1);
  }, 180_000);

  it('restarts its private Redis after a kill -9 on the same port, with its data', async () => {
    const before = await client.issue({ commonName: 'before-redis-crash.cluster.local' });
    const pid = run.pids().get('redis-server');
    if (pid === undefined) throw new Error('no redis-server pid in the banner');
    process.kill(pid, 'SIGKILL');
    await run.waitForLine(new RegExp(`^fsm-certs: redis-server \\(pid ${pid}\\) was killed by SIGKILL; restarting it in \\d+ ms \\(attempt 1\\)$`));
    const after = await issuedEventually(client, 'after-redis-crash.cluster.local');
    expect(opensslVerify(after.certificate, rootPem, { chainPem: after.chain }).ok).toBe(true);
    expect((await client.get('before-redis-crash.cluster.local')).serialNumber).toBe(before.serialNumber);
  }, 180_000);

  it('stops everything on SIGTERM and exits 0', async () => {
    run.child.kill('SIGTERM');
    const code = await run.exited;
    expect(run.lines).toContain('fsm-certs: stopped.');
    expect(code).toBe(0);
    await noProcessLeft(run);
  }, 120_000);
});

describe('npm start with a process that always crashes', () => {
  let run: NpmStart | undefined;
  const preloadDir = mkdtempSync(path.join(tmpdir(), 'fsm-crash-'));
  afterAll(() => {
    run?.destroy();
    rmSync(preloadDir, { recursive: true, force: true });
  });

  it('gives up after repeated crashes: stops everything, exits 1 and names the process and its log', async () => {
    // Loaded into every node process of the stack; only the ca-service dies of it.
    const preload = path.join(preloadDir, 'crash-ca-service.mjs');
    writeFileSync(preload, "if (process.argv[1]?.includes('/apps/ca-service/')) { console.error('simulated crash at start'); process.exit(3); }\n");
    run = startNpmStart({ GATEWAY_PORT: String(await freePort()), NODE_OPTIONS: `--import=${pathToFileURL(preload).href}` });
    const code = await run.exited;
    const log = path.join(run.dataDir, 'logs', 'ca-service.log');
    const output = run.lines.join('\n');
    expect(output).toContain(`fsm-certs: STACK_GAVE_UP: ca-service crashed 5 times within 60 s (last: exited with code 3); giving up and stopping everything. Its log: ${log}`);
    for (const attempt of [1, 2, 3, 4]) expect(output).toMatch(new RegExp(`^fsm-certs: ca-service \\(pid \\d+\\) exited with code 3; restarting it in .+ \\(attempt ${attempt}\\)$`, 'm'));
    expect(readFileSync(log, 'utf8')).toContain('simulated crash at start');
    expect(code).toBe(1);
    expect(run.endpointWritten()).toBe(false);
    await noProcessLeft(run);
  }, 240_000);
});

/**
 * Nothing npm start started may outlive it. A helper that is itself ending (tsx's esbuild
 * service notices its parent's exit a moment later) gets a few seconds; a server does not end.
 */
async function noProcessLeft(run: NpmStart): Promise<void> {
  const gone = await eventually(async () => (run.groupAlive() ? undefined : true), 5_000, 'every process of npm start to end').catch(() => false);
  expect(gone ? '' : run.survivors()).toBe('');
}

/** Issues `commonName`, retrying while the restarted process comes back; the last error if it never does. */
async function issuedEventually(client: GatewayClient, commonName: string): Promise<CertificateResponse> {
  let last: unknown;
  try {
    return await eventually(
      () =>
        client.issue({ commonName }).catch((error: unknown) => {
          last = error;
          return undefined;
        }),
      90_000,
      `a certificate for ${commonName}`,
      250,
    );
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}; last error: ${String(last)}`);
  }
}
