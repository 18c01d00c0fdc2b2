// cfssl's `serve` (Debian package golang-cfssl) as the baseline: same key type, server-generated
// keys (/api/v1/cfssl/newcert), same 24h validity.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';

const gencertSchema = z.object({ cert: z.string(), key: z.string() });

export interface CfsslServer {
  readonly url: string;
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

export function cfsslAvailable(): boolean {
  return spawnSync('cfssl', ['version'], { encoding: 'utf8' }).status === 0;
}

export async function startCfssl(port: number): Promise<CfsslServer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-cfssl-'));
  writeFileSync(path.join(dir, 'ca.json'), JSON.stringify({ CN: 'bench-cfssl-ca', key: { algo: 'ecdsa', size: 256 }, names: [{ O: 'bench' }] }));
  const gen = spawnSync('cfssl', ['gencert', '-initca', path.join(dir, 'ca.json')], { encoding: 'utf8' });
  if (gen.status !== 0) throw new Error(`cfssl gencert -initca failed: ${gen.stderr}`);
  const ca = gencertSchema.parse(JSON.parse(gen.stdout));
  writeFileSync(path.join(dir, 'ca.pem'), ca.cert);
  writeFileSync(path.join(dir, 'ca-key.pem'), ca.key, { mode: 0o600 });
  writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({ signing: { default: { expiry: '24h', usages: ['digital signature', 'key encipherment', 'server auth', 'client auth'] } } }),
  );
  const child: ChildProcess = spawn(
    'cfssl',
    ['serve', '-address', '127.0.0.1', '-port', String(port), '-ca', path.join(dir, 'ca.pem'), '-ca-key', path.join(dir, 'ca-key.pem'), '-config', path.join(dir, 'config.json'), '-loglevel', '5'],
    { stdio: 'ignore' },
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await fetch(`${url}/api/v1/cfssl/info`, { method: 'POST', body: '{}' });
      break;
    } catch {
      if (Date.now() > deadline) throw new Error('cfssl serve did not start within 10 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    pid: child.pid,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const newcertSchema = z.object({ success: z.literal(true), result: z.object({ certificate: z.string(), private_key: z.string() }) });

export async function cfsslNewcert(url: string, commonName: string): Promise<void> {
  const res = await fetch(`${url}/api/v1/cfssl/newcert`, {
    method: 'POST',
    body: JSON.stringify({ request: { CN: commonName, hosts: [commonName], key: { algo: 'ecdsa', size: 256 } } }),
  });
  const body: unknown = await res.json();
  newcertSchema.parse(body);
}
