// Root-token calls a suite makes for set-up the system never does itself (tokens, policies,
// mounts, issuer rotation), tracking what it creates so that cleanup() leaves the Vault as the
// suite found it: no fsm-it-* mount, no token, no policy left behind — also on a Vault from the
// environment and over https.
import { randomUUID } from 'node:crypto';
import { baoCall } from './openbao.js';
import type { VaultTarget } from './target.js';

export interface VaultAnswer {
  readonly status: number;
  readonly body: unknown;
}

export class VaultCallError extends Error {
  override readonly name = 'VaultCallError';
  constructor(readonly status: number, readonly body: unknown, what: string) {
    super(`${what} answered ${status}: ${JSON.stringify(body)}`);
  }
}

function read(body: unknown, ...keys: string[]): unknown {
  let value: unknown = body;
  for (const key of keys) {
    if (typeof value !== 'object' || value === null || !(key in value)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

export interface VaultSnapshot {
  readonly mounts: readonly string[];
  readonly tokenAccessors: readonly string[];
  readonly policies: readonly string[];
}

export class VaultAdmin {
  private readonly accessors = new Set<string>();
  private readonly policies = new Set<string>();
  private readonly mounts = new Set<string>();

  constructor(private readonly target: Pick<VaultTarget, 'address' | 'rootToken' | 'caPem'>) {}

  /** A raw call with the root token (or `token`); never throws on a Vault error status. */
  raw(method: string, path: string, body?: unknown, token: string = this.target.rootToken): Promise<VaultAnswer> {
    return baoCall(this.target.address, this.target.caPem, method, path, token, body);
  }

  /** A call that must succeed (2xx). */
  async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const answer = await this.raw(method, path, body);
    if (answer.status < 200 || answer.status > 299) throw new VaultCallError(answer.status, answer.body, `${method} ${path}`);
    return answer.body;
  }

  /** A fresh, unique mount name for this run (`fsm-it-<random>`), removed by cleanup(). */
  scratchMount(): string {
    const mount = `fsm-it-${randomUUID().slice(0, 8)}`;
    this.mounts.add(mount);
    return mount;
  }

  async createToken(options: { policies: readonly string[]; ttl?: string; renewable?: boolean; noDefaultPolicy?: boolean }): Promise<string> {
    const body = await this.call('POST', 'auth/token/create', {
      policies: [...options.policies],
      ttl: options.ttl ?? '1h',
      renewable: options.renewable ?? true,
      no_default_policy: options.noDefaultPolicy ?? false,
    });
    const token = read(body, 'auth', 'client_token');
    const accessor = read(body, 'auth', 'accessor');
    if (typeof token !== 'string' || typeof accessor !== 'string') throw new Error(`auth/token/create gave no token: ${JSON.stringify(body)}`);
    this.accessors.add(accessor);
    return token;
  }

  async revokeToken(token: string): Promise<void> {
    await this.call('POST', 'auth/token/revoke', { token });
  }

  async writePolicy(name: string, hcl: string): Promise<void> {
    this.policies.add(name);
    await this.call('PUT', `sys/policies/acl/${name}`, { policy: hcl });
  }

  /** What a suite could leave behind: mounts, token accessors and ACL policies. */
  async snapshot(): Promise<VaultSnapshot> {
    const mounts = Object.keys((read(await this.call('GET', 'sys/mounts'), 'data') ?? {}) as Record<string, unknown>).map((m) => m.replace(/\/$/, ''));
    const accessorsAnswer = await this.raw('LIST', 'auth/token/accessors');
    const tokenAccessors = accessorsAnswer.status === 200 ? ((read(accessorsAnswer.body, 'data', 'keys') ?? []) as string[]) : [];
    const policiesAnswer = await this.raw('LIST', 'sys/policies/acl');
    const policies = policiesAnswer.status === 200 ? ((read(policiesAnswer.body, 'data', 'keys') ?? []) as string[]) : [];
    return { mounts: [...mounts].sort(), tokenAccessors: [...tokenAccessors].sort(), policies: [...policies].sort() };
  }

  /** Revoke every token, delete every policy and mount this admin created. Idempotent. */
  async cleanup(): Promise<void> {
    for (const accessor of this.accessors) {
      // 400 "invalid accessor" means it is already gone (revoked by a test, or expired).
      const answer = await this.raw('POST', 'auth/token/revoke-accessor', { accessor });
      if (answer.status === 204 || answer.status === 200 || answer.status === 400) this.accessors.delete(accessor);
    }
    for (const policy of this.policies) {
      const answer = await this.raw('DELETE', `sys/policies/acl/${policy}`);
      if (answer.status === 204 || answer.status === 200 || answer.status === 404) this.policies.delete(policy);
    }
    for (const mount of this.mounts) {
      const answer = await this.raw('DELETE', `sys/mounts/${mount}`);
      if (answer.status === 204 || answer.status === 200) this.mounts.delete(mount);
    }
  }
}
