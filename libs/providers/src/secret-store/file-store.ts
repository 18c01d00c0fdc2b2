// The embedded default secret store: one JSON file per secret, shaped like a Secret manifest,
// under <dataDir>/secrets/<namespace>/<name>.json (files 0600, directories 0700).
// Create-if-absent is atomic across processes: the complete file is written under a temporary
// name and hard-linked into place, and link(2) fails with EEXIST when another process won.
// Updates and deletes hold a per-secret lock file (O_EXCL) so the resourceVersion check and the
// rename happen as one step, even with several processes sharing the directory.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ProviderError } from '../errors.js';
import type { SecretRef, SecretStore, StoredSecret } from './types.js';

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const LOCK_STALE_MS = 10_000;
const LOCK_TIMEOUT_MS = 15_000;

const fileSchema = z.object({
  apiVersion: z.literal('v1'),
  kind: z.literal('Secret'),
  type: z.string(),
  metadata: z.object({ name: z.string(), namespace: z.string(), resourceVersion: z.string().min(1) }),
  data: z.record(z.string(), z.base64()),
});

export interface FileSecretStoreOptions {
  /** Secrets live under <dataDir>/secrets. */
  readonly dataDir: string;
}

function errno(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

export class FileSecretStore implements SecretStore {
  readonly kind = 'file' as const;
  readonly root: string;

  constructor(options: FileSecretStoreOptions) {
    this.root = path.resolve(options.dataDir, 'secrets');
  }

  /** Where a secret is kept; error messages name it so an operator can inspect or delete it. */
  pathOf(ref: SecretRef): string {
    for (const [what, value] of [
      ['namespace', ref.namespace],
      ['name', ref.name],
    ] as const) {
      if (value.length > 253 || !NAME.test(value)) {
        throw new ProviderError('CONFIGURATION_INVALID', `Secret ${what} "${value}" is not a valid Kubernetes name (lower-case letters, digits, "-" and "."); fix caBundleSecretName / namespace in the configuration.`);
      }
    }
    return path.join(this.root, ref.namespace, `${ref.name}.json`);
  }

  async get(ref: SecretRef): Promise<StoredSecret | undefined> {
    const file = this.pathOf(ref);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if (errno(error) === 'ENOENT') return undefined;
      throw this.ioError('read', file, error);
    }
    let parsed: z.infer<typeof fileSchema>;
    try {
      parsed = fileSchema.parse(JSON.parse(text));
    } catch (cause) {
      throw new ProviderError('SECRET_STORE_ERROR', `Secret file ${file} is not a valid Secret manifest (JSON with base64 data); repair it or delete it and restart.`, { cause });
    }
    const data: Record<string, Buffer> = {};
    for (const [key, value] of Object.entries(parsed.data)) data[key] = Buffer.from(value, 'base64');
    return { ref: { namespace: ref.namespace, name: ref.name }, data, resourceVersion: parsed.metadata.resourceVersion };
  }

  async create(ref: SecretRef, data: Readonly<Record<string, Buffer>>): Promise<StoredSecret> {
    const file = this.pathOf(ref);
    await this.ensureDir(path.dirname(file));
    const version = this.newVersion(0);
    const temp = await this.writeTemp(file, ref, data, version);
    try {
      await link(temp, file);
    } catch (error) {
      if (errno(error) === 'EEXIST') {
        throw new ProviderError('SECRET_ALREADY_EXISTS', `Secret ${ref.namespace}/${ref.name} already exists (${file}).`, { cause: error });
      }
      throw this.ioError('create', file, error);
    } finally {
      await unlink(temp).catch(() => undefined);
    }
    return { ref: { ...ref }, data: { ...data }, resourceVersion: version };
  }

  async update(ref: SecretRef, data: Readonly<Record<string, Buffer>>, resourceVersion: string): Promise<StoredSecret> {
    const file = this.pathOf(ref);
    return this.withLock(file, async () => {
      const current = await this.get(ref);
      if (current === undefined || current.resourceVersion !== resourceVersion) {
        throw new ProviderError(
          'SECRET_CONFLICT',
          `Secret ${ref.namespace}/${ref.name} changed since it was read (${current === undefined ? 'it was deleted' : 'stale resourceVersion'}); read it again and retry.`,
        );
      }
      const version = this.newVersion(Number.parseInt(resourceVersion, 10) || 0);
      const temp = await this.writeTemp(file, ref, data, version);
      try {
        await rename(temp, file);
      } catch (error) {
        await unlink(temp).catch(() => undefined);
        throw this.ioError('update', file, error);
      }
      return { ref: { ...ref }, data: { ...data }, resourceVersion: version };
    });
  }

  async delete(ref: SecretRef): Promise<boolean> {
    const file = this.pathOf(ref);
    return this.withLock(file, async () => {
      try {
        await unlink(file);
        return true;
      } catch (error) {
        if (errno(error) === 'ENOENT') return false;
        throw this.ioError('delete', file, error);
      }
    });
  }

  /** "<generation>-<random>": ordered for humans, unique across concurrent writers. */
  private newVersion(previousGeneration: number): string {
    return `${previousGeneration + 1}-${randomBytes(6).toString('hex')}`;
  }

  private async ensureDir(dir: string): Promise<void> {
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw this.ioError('create directory', dir, error);
    }
  }

  private async writeTemp(file: string, ref: SecretRef, data: Readonly<Record<string, Buffer>>, version: string): Promise<string> {
    const encoded: Record<string, string> = {};
    for (const [key, value] of Object.entries(data)) encoded[key] = value.toString('base64');
    const manifest = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: { name: ref.name, namespace: ref.namespace, resourceVersion: version },
      data: encoded,
    };
    const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      const handle = await open(temp, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
      try {
        await handle.writeFile(`${JSON.stringify(manifest, null, 2)}\n`);
        // The private key is in here: make 0600 hold whatever the umask was.
        await handle.chmod(0o600);
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw this.ioError('write', temp, error);
    }
    return temp;
  }

  private async withLock<T>(file: string, body: () => Promise<T>): Promise<T> {
    const lock = `${file}.lock`;
    await this.ensureDir(path.dirname(file));
    const deadline = Date.now() + LOCK_TIMEOUT_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        const handle = await open(lock, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
        await handle.close();
        break;
      } catch (error) {
        if (errno(error) !== 'EEXIST') throw this.ioError('lock', lock, error);
        // A lock left behind by a crashed process must not block us forever.
        const info = await stat(lock).catch(() => undefined);
        if (info !== undefined && Date.now() - info.mtimeMs > LOCK_STALE_MS) {
          await rm(lock, { force: true });
          continue;
        }
        if (Date.now() > deadline) {
          throw new ProviderError('SECRET_STORE_ERROR', `Timed out waiting for lock ${lock}; if no fsm-certs process is running, delete that file.`, { retryable: true });
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(100, 5 * 2 ** Math.min(attempt, 5)) + Math.random() * 5));
      }
    }
    try {
      return await body();
    } finally {
      await rm(lock, { force: true });
    }
  }

  private ioError(action: string, file: string, error: unknown): ProviderError {
    return new ProviderError('SECRET_STORE_ERROR', `Cannot ${action} ${file}: ${errno(error) ?? (error as Error).message}; check the data directory's permissions and free space.`, {
      cause: error,
    });
  }
}
