// cfssl's `serve` (Debian package golang-cfssl) as the baseline: same key type, server-generated
// keys (/api/v1/cfssl/newcert), same 24h validity.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { postJson } from './http-post.js';

const gencertSchema = z.object({ cert: z.string(), key: z.string() });

export interface CfsslServer {
  readonly url: string;
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

export function cfsslAvailable(): boolean {
  return spawnSync('cfssl', ['version'], { encoding: 'utf8' }).status === 0;
}

/** The sqlite3 shell (Debian package sqlite3), needed to create cfssl's certificate database. */
export function sqlite3Available(): boolean {
  return spawnSync('sqlite3', ['-version'], { encoding: 'utf8' }).status === 0;
}

// cfssl's certdb schema for sqlite (its certdb/sqlite migrations, applied up to the current
// columns); cfssl itself ships no migration tool.
const CERTDB_SCHEMA = `
CREATE TABLE certificates (
  serial_number blob NOT NULL, authority_key_identifier blob NOT NULL, ca_label blob, status blob NOT NULL,
  reason int, expiry timestamp, revoked_at timestamp, pem blob NOT NULL, issued_at timestamp,
  not_before timestamp, metadata text, sans text, common_name text,
  PRIMARY KEY(serial_number, authority_key_identifier)
);
CREATE TABLE ocsp_responses (
  serial_number blob NOT NULL, authority_key_identifier blob NOT NULL, body blob NOT NULL, expiry timestamp,
  PRIMARY KEY(serial_number, authority_key_identifier)
);
`;

/** Creates cfssl's certificate database; WAL with synchronous=NORMAL, like Redis's AOF everysec, no fsync per cert. */
function createCertDb(dir: string): string {
  const file = path.join(dir, 'certs.db');
  const created = spawnSync('sqlite3', [file], { input: CERTDB_SCHEMA, encoding: 'utf8' });
  if (created.status !== 0) throw new Error(`sqlite3 could not create cfssl's certificate database: ${created.stderr}`);
  const config = path.join(dir, 'db.json');
  writeFileSync(config, JSON.stringify({ driver: 'sqlite3', data_source: `file:${file}?_journal_mode=WAL&_synchronous=NORMAL` }));
  return config;
}

export interface CfsslOptions {
  /** Record every issued certificate in cfssl's certificate database (sqlite), as fsm-certs records its inventory. */
  readonly certDb?: boolean;
}

export async function startCfssl(port: number, options: CfsslOptions = {}): Promise<CfsslServer> {
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
  const dbArgs = options.certDb === true ? ['-db-config', createCertDb(dir)] : [];
  const child: ChildProcess = spawn(
    'cfssl',
    [
      'serve',
      '-address',
      '127.0.0.1',
      '-port',
      String(port),
      '-ca',
      path.join(dir, 'ca.pem'),
      '-ca-key',
      path.join(dir, 'ca-key.pem'),
      '-config',
      path.join(dir, 'config.json'),
      ...dbArgs,
      '-loglevel',
      '5',
    ],
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
  const res = await postJson(`${url}/api/v1/cfssl/newcert`, { request: { CN: commonName, hosts: [commonName], key: { algo: 'ecdsa', size: 256 } } });
  newcertSchema.parse(res.body);
}
