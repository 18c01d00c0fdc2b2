// The Kubernetes API emulator: a node:http server on 127.0.0.1:<free port> serving the resources
// registered with it (core/v1 Secrets by default) from an in-memory ObjectStore. A test fixture:
// never ship it in an app. See router.ts for the extension API.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { ObjectStore } from './object-store.js';
import type { ObjectStoreOptions } from './object-store.js';
import { ResourceRouter } from './router.js';
import type { Interceptor } from './router.js';
import { SECRET_RESOURCE } from './secrets.js';
import { SERVICE_ACCOUNT_RESOURCE, ServiceAccountTokens } from './service-accounts.js';
import type { ResourceDefinition } from './types.js';

export interface KubernetesEmulatorOptions extends ObjectStoreOptions {
  /** Bearer token clients must send; a random one by default. null disables authentication. */
  readonly token?: string | null;
  /** Namespace written into the kubeconfig context. Default 'default'. */
  readonly defaultNamespace?: string;
}

export class KubernetesEmulator {
  readonly store: ObjectStore;
  /** The registered core/v1 Secret resource, for in-process access through `store`. */
  readonly secrets: ResourceDefinition;
  /** ServiceAccounts and the tokens the emulator mints and reviews for them. */
  readonly serviceAccountTokens: ServiceAccountTokens;
  private readonly router: ResourceRouter;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly token: string | undefined,
    private readonly defaultNamespace: string,
    store: ObjectStore,
    router: ResourceRouter,
    now: () => Date,
  ) {
    this.store = store;
    this.router = router;
    this.secrets = router.registerResource(SECRET_RESOURCE);
    router.registerResource(SERVICE_ACCOUNT_RESOURCE);
    const tokens = new ServiceAccountTokens(store, now);
    this.serviceAccountTokens = tokens;
    router.registerAction({
      group: '',
      version: 'v1',
      plural: 'serviceaccounts',
      subresource: 'token',
      handle: (namespace, name, body) => ({ status: 201, body: tokens.request(namespace ?? '', name ?? '', body) }),
    });
    router.registerAction({ group: 'authentication.k8s.io', version: 'v1', plural: 'tokenreviews', handle: (_ns, _name, body) => ({ status: 201, body: tokens.review(body) }) });
  }

  static async start(options: KubernetesEmulatorOptions = {}): Promise<KubernetesEmulator> {
    const token = options.token === null ? undefined : (options.token ?? randomBytes(16).toString('hex'));
    const store = new ObjectStore(options);
    const router = new ResourceRouter(store, token);
    const server = createServer((req, res) => {
      void router.handle(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    return new KubernetesEmulator(server, `http://127.0.0.1:${port}`, token, options.defaultNamespace ?? 'default', store, router, options.now ?? (() => new Date()));
  }

  /** Serve another resource type (see the comment at the top of router.ts). */
  registerResource(def: ResourceDefinition): ResourceDefinition {
    return this.router.registerResource(def);
  }

  resource(group: string, version: string, plural: string): ResourceDefinition | undefined {
    return this.router.resource(group, version, plural);
  }

  /** Answer matching requests yourself (fault injection). Returns a function that removes it. */
  addInterceptor(interceptor: Interceptor): () => void {
    return this.router.addInterceptor(interceptor);
  }

  /** Close every open watch stream, as an API server restart would. */
  dropWatches(): void {
    this.router.closeWatches();
  }

  /** The kubeconfig document (YAML) pointing at this emulator. */
  kubeconfigYaml(): string {
    return stringify({
      apiVersion: 'v1',
      kind: 'Config',
      // client-node refuses plain http unless skipTLSVerify is set; the emulator has no TLS.
      clusters: [{ name: 'emulator', cluster: { server: this.url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'emulator', user: this.token === undefined ? {} : { token: this.token } }],
      contexts: [{ name: 'emulator', context: { cluster: 'emulator', user: 'emulator', namespace: this.defaultNamespace } }],
      'current-context': 'emulator',
    });
  }

  /** A @kubernetes/client-node KubeConfig pointing at this emulator. */
  kubeConfig(): KubeConfig {
    const config = new KubeConfig();
    config.loadFromString(this.kubeconfigYaml());
    return config;
  }

  async close(): Promise<void> {
    this.router.closeWatches();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }
}
