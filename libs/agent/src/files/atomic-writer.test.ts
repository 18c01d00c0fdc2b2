import { spawn } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRootCa, issueLeaf } from '@fsm-certs/x509';
import { afterAll, describe, expect, it } from 'vitest';
import { AtomicDirWriter } from './atomic-writer.js';
import { SNAPSHOT_PATTERN, type CertificateFiles } from './layout.js';
import { readCertificateFiles } from './reader.js';

const temp: string[] = [];
afterAll(() => temp.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'fsm-agent-files-'));
  temp.push(dir);
  return dir;
}

/** A generation of files: its own CA, a leaf signed by it, the leaf's key. */
function generation(name = 'gen.agent.cluster.local'): CertificateFiles & { serial: string } {
  const ca = createRootCa({ commonName: `ca-for-${name}` });
  const leaf = issueLeaf(ca.issuer, { commonName: name, validityMs: 3_600_000 });
  return { cert: leaf.certificatePem, key: leaf.privateKeyPem ?? '', ca: ca.certificatePem, serial: leaf.serialNumber };
}

function belongTogether(files: CertificateFiles): boolean {
  const leaf = new X509Certificate(files.cert);
  return leaf.checkPrivateKey(createPrivateKey(files.key)) && leaf.verify(new X509Certificate(files.ca).publicKey);
}

describe('the agent directory', () => {
  it('publishes cert.pem, key.pem and ca.pem as links through ..data into one snapshot, the key 0600', async () => {
    const dir = tempDir();
    const files = generation();
    const { snapshot } = await new AtomicDirWriter(dir).write(files);
    expect(snapshot).toMatch(SNAPSHOT_PATTERN);
    expect(readlinkSync(path.join(dir, '..data'))).toBe(snapshot);
    for (const name of ['cert.pem', 'key.pem', 'ca.pem']) {
      expect(lstatSync(path.join(dir, name)).isSymbolicLink()).toBe(true);
      expect(readlinkSync(path.join(dir, name))).toBe(`..data/${name}`);
    }
    expect(statSync(path.join(dir, 'key.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(dir, 'cert.pem')).mode & 0o777).toBe(0o644);
    expect(readFileSync(path.join(dir, 'cert.pem'), 'utf8')).toBe(files.cert);
    expect(readFileSync(path.join(dir, 'key.pem'), 'utf8')).toBe(files.key);
    expect(readFileSync(path.join(dir, 'ca.pem'), 'utf8')).toBe(files.ca);
  });

  it('keeps only the current snapshot and the one before it', async () => {
    const dir = tempDir();
    const writer = new AtomicDirWriter(dir);
    const written: string[] = [];
    for (let i = 0; i < 4; i += 1) written.push((await writer.write(generation())).snapshot);
    const snapshots = readdirSync(dir).filter((entry) => SNAPSHOT_PATTERN.test(entry)).sort();
    expect(snapshots).toEqual(written.slice(-2).sort());
    expect(readdirSync(dir).filter((entry) => entry.includes('tmp'))).toEqual([]);
  });

  it('replaces plain files left by another writer with links, and reads them before that', async () => {
    const dir = tempDir();
    const old = generation();
    writeFileSync(path.join(dir, 'cert.pem'), old.cert);
    writeFileSync(path.join(dir, 'key.pem'), old.key, { mode: 0o600 });
    writeFileSync(path.join(dir, 'ca.pem'), old.ca);
    expect((await readCertificateFiles(dir))?.cert).toBe(old.cert);
    const next = generation();
    await new AtomicDirWriter(dir).write(next);
    expect(lstatSync(path.join(dir, 'cert.pem')).isSymbolicLink()).toBe(true);
    const read = await readCertificateFiles(dir);
    expect(read?.cert).toBe(next.cert);
    expect(read?.snapshot).toMatch(SNAPSHOT_PATTERN);
  });

  it('reads nothing from an empty directory', async () => {
    expect(await readCertificateFiles(tempDir())).toBeUndefined();
  });

  it('the pair check used below detects a certificate read before a swap and a key read after it', async () => {
    // Why readers resolve ..data once: opening cert.pem and key.pem one after the other
    // across a swap pairs two generations. This shows the checker sees exactly that.
    const dir = tempDir();
    const writer = new AtomicDirWriter(dir);
    const first = generation();
    const second = generation();
    await writer.write(first);
    const cert = readFileSync(path.join(dir, 'cert.pem'), 'utf8');
    await writer.write(second);
    const key = readFileSync(path.join(dir, 'key.pem'), 'utf8');
    expect(belongTogether({ cert, key, ca: first.ca })).toBe(false);
    const snapshot = await readCertificateFiles(dir);
    expect(snapshot !== undefined && belongTogether(snapshot)).toBe(true);
  });

  it('never shows a reader in another process a mismatched key and certificate, or a partial file, while it is rewritten hundreds of times', async () => {
    const dir = tempDir();
    const stopFile = path.join(tempDir(), 'stop');
    const writer = new AtomicDirWriter(dir);
    const generations = Array.from({ length: 12 }, () => generation());
    await writer.write(generations[0] ?? generation());
    const script = fileURLToPath(new URL('./torn-reader.test-helpers.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=development', script, dir, stopFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let reads = 0;
    let ready = false;
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      ready ||= out.includes('ready');
      const progress = [...out.matchAll(/progress (\d+)/g)].at(-1);
      if (progress?.[1] !== undefined) reads = Number(progress[1]);
    });
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));

    // Write until the reader has read plenty while we wrote: at least 300 swaps and 2,000 reads
    // (bounded: at most 20,000 swaps).
    let writes = 0;
    while ((!ready || writes < 300 || reads < 2_000) && writes < 20_000 && child.exitCode === null) {
      await writer.write(generations[writes % generations.length] ?? generation());
      writes += 1;
    }
    writeFileSync(stopFile, '');
    expect(await exited, err).toBe(0);
    const summary = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
    expect(summary['mismatched'], JSON.stringify(summary)).toBe(0);
    expect(summary['partial'], JSON.stringify(summary)).toBe(0);
    // The reader really read during the rewrites: it saw most of the generations go by.
    expect(Number(summary['reads'])).toBeGreaterThanOrEqual(2_000);
    expect(Number(summary['generations'])).toBeGreaterThanOrEqual(6);
  }, 120_000);
});
