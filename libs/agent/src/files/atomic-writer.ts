// Writes a new snapshot of the three files and publishes it with one atomic rename (see
// layout.ts). Order: write + fsync every file of the new snapshot, fsync its directory, point
// `..data_tmp` at it and rename that over `..data` (POSIX rename replaces the link atomically),
// make sure the top-level names are links through `..data`, fsync DIR, then delete snapshots
// older than the previous one — the previous one is kept so that a reader which resolved
// `..data` just before the swap can still finish reading it.
import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, mkdtemp, open, readdir, readlink, rename, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { AgentError } from '../errors.js';
import { CA_FILE, CERT_FILE, DATA_LINK, DATA_LINK_TMP, KEY_FILE, PUBLISHED_FILES, SNAPSHOT_PATTERN, snapshotPrefix, type CertificateFiles } from './layout.js';

export interface WriteResult {
  /** The new snapshot's directory name (e.g. `..2026_01_02_15_04_05.Ab12Cd`). */
  readonly snapshot: string;
}

async function writeFileSynced(file: string, content: string, mode: number): Promise<void> {
  const handle = await open(file, 'wx', mode);
  try {
    await handle.writeFile(content, 'utf8');
    // The mode given to open() is filtered by the umask; the key must be exactly 0600.
    await handle.chmod(mode);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function currentTarget(dir: string): Promise<string | undefined> {
  try {
    return await readlink(path.join(dir, DATA_LINK));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'EINVAL') return undefined;
    throw error;
  }
}

/** Replaces `name` by a symlink to `target` in one rename (also over a plain file left from before). */
async function ensureLink(dir: string, name: string, target: string): Promise<void> {
  const file = path.join(dir, name);
  try {
    const stat = await lstat(file);
    if (stat.isSymbolicLink() && (await readlink(file)) === target) return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const tmp = path.join(dir, `.${name}.${randomBytes(4).toString('hex')}.tmp`);
  await symlink(target, tmp);
  await rename(tmp, file);
}

export class AtomicDirWriter {
  private previous: string | undefined;

  constructor(readonly dir: string) {}

  async write(files: CertificateFiles, at: Date = new Date()): Promise<WriteResult> {
    try {
      return await this.writeSnapshot(files, at);
    } catch (error) {
      if (error instanceof AgentError) throw error;
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new AgentError('WRITE_FAILED', `cannot write the certificate files in ${this.dir} (${code}); the previous files stay in place. Check the directory's owner, permissions and free space`, { cause: error });
    }
  }

  private async writeSnapshot(files: CertificateFiles, at: Date): Promise<WriteResult> {
    const { dir } = this;
    await mkdir(dir, { recursive: true, mode: 0o755 });
    const snapshotDir = await mkdtemp(path.join(dir, snapshotPrefix(at)));
    const snapshot = path.basename(snapshotDir);
    try {
      await writeFileSynced(path.join(snapshotDir, KEY_FILE), files.key, 0o600);
      await writeFileSynced(path.join(snapshotDir, CERT_FILE), files.cert, 0o644);
      await writeFileSynced(path.join(snapshotDir, CA_FILE), files.ca, 0o644);
      // mkdtemp makes the directory 0700; the workload may run as another user of the same group.
      await chmod(snapshotDir, 0o755);
      await syncDir(snapshotDir);
    } catch (error) {
      await rm(snapshotDir, { recursive: true, force: true });
      throw error;
    }
    const before = await currentTarget(dir);
    const tmpLink = path.join(dir, DATA_LINK_TMP);
    await rm(tmpLink, { force: true });
    await symlink(snapshot, tmpLink);
    await rename(tmpLink, path.join(dir, DATA_LINK));
    for (const name of PUBLISHED_FILES) await ensureLink(dir, name, `${DATA_LINK}/${name}`);
    await syncDir(dir);
    this.previous = before ?? this.previous;
    await this.removeOldSnapshots(snapshot);
    return { snapshot };
  }

  /** Deletes every snapshot but the current one and the one it replaced. */
  private async removeOldSnapshots(current: string): Promise<void> {
    const keep = new Set([current, ...(this.previous === undefined ? [] : [this.previous])]);
    for (const entry of await readdir(this.dir)) {
      if (SNAPSHOT_PATTERN.test(entry) && !keep.has(entry)) await rm(path.join(this.dir, entry), { recursive: true, force: true });
    }
  }
}
