// --ca against an https gateway signed by a private root: the CLI re-runs itself with
// NODE_EXTRA_CA_CERTS, which is the only way node's fetch trusts an extra root on Node 20.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRootCa, issueLeaf } from '@fsm-certs/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const main = path.join(path.dirname(fileURLToPath(import.meta.url)), 'main.ts');
const work = mkdtempSync(path.join(tmpdir(), 'fsm-cli-https-'));
const root = createRootCa({});
const rootFile = path.join(work, 'root.pem');
writeFileSync(rootFile, root.certificatePem);
let server: Server;
let url = '';

beforeAll(async () => {
  const leaf = issueLeaf(root.issuer, { commonName: 'issuer-gateway.fsm-system.svc', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], validityMs: 3_600_000 });
  server = createServer({ cert: leaf.certificatePem, key: leaf.privateKeyPem ?? '' }, (req, res) => {
    if (req.url === '/v1/ca') {
      res.writeHead(200, { 'content-type': 'application/x-pem-file' }).end(root.certificatePem);
      return;
    }
    res.writeHead(404, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ status: 404, code: 'NOT_FOUND', detail: `no route ${req.url ?? ''}` }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  url = `https://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(work, { recursive: true, force: true });
});

// Async: the https server lives in this process and must answer while the CLI runs.
function cli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, FSM_CERTS_SERVER: '', FSM_CERTS_TOKEN: '', FSM_CERTS_CA: '', NODE_EXTRA_CA_CERTS: '', FSM_CERTS_TRUSTED_CA: '' };
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=development', main, ...args], { cwd: path.dirname(path.dirname(main)), env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('fsm-certs against an https gateway', () => {
  it('trusts the gateway with --ca and prints what openssl prints for its root', async () => {
    const result = await cli(['ca', 'dates', '--server', url, '--ca', rootFile]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(execFileSync('openssl', ['x509', '-in', rootFile, '-noout', '-dates'], { encoding: 'utf8' }));
  });

  it('exits 3 with advice to pass --ca when the certificate is not trusted', async () => {
    const result = await cli(['ca', 'dates', '--server', url]);
    expect(result.status).toBe(3);
    expect(result.stderr).toMatch(new RegExp(`^fsm-certs: GATEWAY_TLS_UNTRUSTED: the TLS certificate of ${url.replace(/\./g, '\\.')} is not trusted \\(\\w+\\); pass --ca FILE with the mesh root`));
  });
});
