// A Vault HTTP API emulator (test fixture only): the calls fsm-certs makes, with Vault's status
// codes, error bodies and PKI semantics (see docs/reference/vault-pki-api.md). Every Vault suite
// runs against a real OpenBao instead (startVaultTarget); the emulator remains the last fallback for
// a machine with no Vault binary and `npm run dev:vault -- --emulator`, and emulator.test.ts holds
// it to OpenBao's answers. It listens on
// 127.0.0.1 and offers outage controls — seal()/unseal() (503) and stop()/start() on the SAME
// port (connection refused) — so retry and recovery can be tested without a container.
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { VaultApiError, permissionDenied, readJsonBody, sendEmpty, sendError, sendJson } from './http.js';
import { handlePkiIssuers } from './pki-issuers.js';
import { handlePki, handlePkiRoot, isUnauthenticatedPkiPath } from './pki-routes.js';
import type { RouteContext, RouteResult } from './routes.js';
import type { MountEntry, TokenEntry } from './state.js';
import { aclDenied, allowed, capabilitiesOn } from './acl.js';
import { createToken, handleCapabilitiesSelf, handleMounts, handlePolicies, handleToken, healthBody, newMount } from './sys-routes.js';
import type { NewTokenOptions, SysState } from './sys-routes.js';

export interface VaultEmulatorOptions {
  /** Root token accepted from the start (like `vault server -dev -dev-root-token-id`). Default `root`. */
  readonly rootToken?: string;
  /** Port on 127.0.0.1; default 0 = a free port chosen at start. */
  readonly port?: number;
  /** Serve https with this certificate/key instead of http. */
  readonly tls?: { readonly certificatePem: string; readonly privateKeyPem: string };
  /** Injectable clock for token expiry and certificate dates. */
  readonly clock?: () => Date;
  /** Reported by sys/health. */
  readonly version?: string;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly body: Record<string, unknown>;
  readonly status: number;
}

const DEV_MOUNTS = [
  ['cubbyhole', 'cubbyhole'],
  ['identity', 'identity'],
  ['secret', 'kv'],
  ['sys', 'system'],
] as const;

export class VaultEmulator {
  private server: http.Server | undefined;
  private boundPort: number;
  private readonly clock: () => Date;
  private readonly state: SysState;
  /** Every request served, newest last (bodies only; tokens are never recorded). */
  readonly requests: RecordedRequest[] = [];
  readonly rootToken: string;

  private constructor(private readonly options: VaultEmulatorOptions) {
    this.clock = options.clock ?? (() => new Date());
    this.boundPort = options.port ?? 0;
    this.rootToken = options.rootToken ?? 'root';
    this.state = { mounts: new Map<string, MountEntry>(), tokens: new Map<string, TokenEntry>(), policies: new Map<string, string>(), sealed: false, version: options.version ?? '1.17.6+emulator', clusterId: randomUUID() };
    for (const [path, type] of DEV_MOUNTS) this.state.mounts.set(path, newMount(path, type));
    createToken(this.state, this.clock(), { id: this.rootToken, ttlSeconds: 0, renewable: false, policies: ['root'] });
  }

  static async start(options: VaultEmulatorOptions = {}): Promise<VaultEmulator> {
    const emulator = new VaultEmulator(options);
    await emulator.start();
    return emulator;
  }

  get port(): number {
    return this.boundPort;
  }

  get address(): string {
    return `${this.options.tls === undefined ? 'http' : 'https'}://127.0.0.1:${this.boundPort}`;
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  get sealed(): boolean {
    return this.state.sealed;
  }

  /** Add a token (e.g. a short-lived renewable one). Returns its id. */
  createToken(options: NewTokenOptions = {}): string {
    return createToken(this.state, this.clock(), options).id;
  }

  revokeToken(token: string): void {
    this.state.tokens.delete(token);
  }

  /** Every call but sys/health now answers 503 "Vault is sealed"; health answers 503 too. */
  seal(): void {
    this.state.sealed = true;
  }

  unseal(): void {
    this.state.sealed = false;
  }

  /** Listen (again) — on the same port as before once one was chosen. */
  async start(): Promise<void> {
    if (this.server !== undefined) return;
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      void this.handle(req, res);
    };
    const server = this.options.tls === undefined
      ? http.createServer(handler)
      : https.createServer({ cert: this.options.tls.certificatePem, key: this.options.tls.privateKeyPem }, handler);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.boundPort, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    if (address !== null && typeof address === 'object') this.boundPort = address.port;
    this.server = server;
  }

  /** Simulate Vault going away: close the listener and every open connection (clients see ECONNREFUSED/ECONNRESET). State is kept. */
  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  async close(): Promise<void> {
    await this.stop();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const method = url.searchParams.get('list') === 'true' && req.method === 'GET' ? 'LIST' : (req.method ?? 'GET').toUpperCase();
    let body: Record<string, unknown> = {};
    let status = 500;
    try {
      body = await readJsonBody(req);
      const result = this.route(method, url.pathname, req.headers['x-vault-token'], body);
      status = result.status;
      if (result.kind === 'json') sendJson(res, result.status, result.body);
      else if (result.kind === 'empty') sendEmpty(res, result.status);
      else {
        res.writeHead(result.status, { 'content-type': result.contentType });
        res.end(result.body);
      }
    } catch (error) {
      const apiError = error instanceof VaultApiError ? error : new VaultApiError(500, [`internal error: ${error instanceof Error ? error.message : String(error)}`]);
      status = apiError.status;
      sendError(res, apiError);
    } finally {
      this.requests.push({ method, path: url.pathname, body, status });
    }
  }

  private tokenFrom(header: string | string[] | undefined, now: Date): TokenEntry | undefined {
    const id = Array.isArray(header) ? header[0] : header;
    if (id === undefined || id === '') return undefined;
    const token = this.state.tokens.get(id);
    if (token === undefined) return undefined;
    if (token.expiresAt !== undefined && token.expiresAt.getTime() <= now.getTime()) {
      this.state.tokens.delete(id);
      return undefined;
    }
    return token;
  }

  private route(method: string, pathname: string, tokenHeader: string | string[] | undefined, body: Record<string, unknown>): RouteResult {
    const now = this.clock();
    if (!pathname.startsWith('/v1/')) throw new VaultApiError(404, []);
    const path = pathname.slice('/v1/'.length).replace(/\/+$/, '');
    if (path === 'sys/health' || path === 'sys/seal-status') {
      return { kind: 'json', status: this.state.sealed && path === 'sys/health' ? 503 : 200, body: healthBody(this.state, now) };
    }
    if (this.state.sealed) throw new VaultApiError(503, ['Vault is sealed']);
    const mount = this.mountFor(path);
    const subPath = mount === undefined ? '' : path.slice(mount.path.length + 1);
    const unauthenticated = mount?.pki !== undefined && isUnauthenticatedPkiPath(subPath, method);
    const token = this.tokenFrom(tokenHeader, now);
    if (token === undefined && !unauthenticated) throw permissionDenied();
    if (token !== undefined && !unauthenticated && !allowed(capabilitiesOn(this.state.policies, token.policies, path), method)) throw aclDenied();
    const ctx: RouteContext = { method, body, now, token };
    if (path === 'sys/mounts' || path.startsWith('sys/mounts/')) return handleMounts(this.state, ctx, path.slice('sys/mounts'.length).replace(/^\//, ''));
    if (path === 'sys/capabilities-self' && (method === 'POST' || method === 'PUT')) return handleCapabilitiesSelf(this.state, ctx);
    if (path === 'sys/policies/acl' || path.startsWith('sys/policies/acl/')) return handlePolicies(this.state, ctx, path.slice('sys/policies/acl'.length).replace(/^\//, ''));
    if (path.startsWith('auth/token/')) return handleToken(this.state, ctx, path.slice('auth/token/'.length));
    if (mount?.pki !== undefined) {
      const pkiCtx = { ...ctx, mount, subPath };
      return handlePkiRoot(pkiCtx) ?? handlePkiIssuers(pkiCtx) ?? handlePki(pkiCtx);
    }
    throw new VaultApiError(404, []);
  }

  /** Longest mounted path that prefixes the request path (mount paths may contain slashes). */
  private mountFor(path: string): MountEntry | undefined {
    let best: MountEntry | undefined;
    for (const mount of this.state.mounts.values()) {
      if ((path === mount.path || path.startsWith(`${mount.path}/`)) && (best === undefined || mount.path.length > best.path.length)) best = mount;
    }
    return best;
  }
}
