// Where the staged root rotation is visible to every process: the status the ca-service last
// published (served at GET /v1/ca/rotation, exported as metrics), the root each ca-service
// replica signs with (retire waits until all live ones sign with the new root), and a lease so
// one replica at a time runs the controller's pass over the inventory.
import type { Redis } from 'ioredis';
import { rootRotationStatusSchema, type RootRotationStatus } from './contracts/root-rotation-job.js';
import { parseStored } from './contracts/parse.js';
import { DEFAULT_PREFIX, keyspace, type Keyspace } from './keys.js';

export class RotationStatusStore {
  readonly keys: Keyspace;

  constructor(
    private readonly redis: Redis,
    options: { readonly prefix?: string } = {},
  ) {
    this.keys = keyspace(options.prefix ?? DEFAULT_PREFIX);
  }

  async publish(status: RootRotationStatus): Promise<void> {
    const valid = parseStored(rootRotationStatusSchema, status, 'Root rotation status');
    await this.redis.set(this.keys.rotationStatus, JSON.stringify(valid));
  }

  async get(): Promise<RootRotationStatus | undefined> {
    const json = await this.redis.get(this.keys.rotationStatus);
    if (json === null) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch {
      value = undefined;
    }
    return parseStored(rootRotationStatusSchema, value, 'Root rotation status');
  }

  /** Records which root this replica signs with now. */
  async setSigner(instanceId: string, fingerprint: string): Promise<void> {
    await this.redis.hset(this.keys.rotationSigners, instanceId, fingerprint);
  }

  async removeSigner(instanceId: string): Promise<void> {
    await this.redis.hdel(this.keys.rotationSigners, instanceId);
  }

  /** The signer of each instance in `live` (instances that never reported are left out). */
  async signers(live: readonly string[]): Promise<Record<string, string>> {
    if (live.length === 0) return {};
    const values = await this.redis.hmget(this.keys.rotationSigners, ...live);
    const out: Record<string, string> = {};
    live.forEach((id, i) => {
      const value = values[i];
      if (typeof value === 'string') out[id] = value;
    });
    return out;
  }

  /** Takes (or renews, when already ours) the controller lease; true when this instance holds it. */
  async takeLease(instanceId: string, ttlMs: number): Promise<boolean> {
    const taken = await this.redis.set(this.keys.rotationLease, instanceId, 'PX', ttlMs, 'NX');
    if (taken === 'OK') return true;
    if ((await this.redis.get(this.keys.rotationLease)) !== instanceId) return false;
    await this.redis.pexpire(this.keys.rotationLease, ttlMs);
    return true;
  }
}
