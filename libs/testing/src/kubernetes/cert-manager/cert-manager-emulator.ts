// cert-manager on top of the Kubernetes API emulator: registers CertificateRequests, Issuers and
// ClusterIssuers, runs the simulated approver + CA issuer, and offers test hooks. Usage:
//
//   const kube = await KubernetesEmulator.start();
//   const certManager = CertManagerEmulator.install(kube);
//   await certManager.createCaIssuer({ name: 'fsm-ca', namespace: 'fsm-system', ca: createRootCa() });
//   certManager.setBehaviour({ approval: 'deny' });   // or signing: 'fail' | 'stall', omitCa, delayMs
import type { KubernetesEmulator } from '../emulator.js';
import type { KubeObject } from '../types.js';
import { DEFAULT_BEHAVIOUR, type BehaviourRule, type CertManagerBehaviour } from './behaviour.js';
import { SimulatedCertManagerController, type CertManagerResources } from './controller.js';
import { CERTIFICATE_REQUEST_RESOURCE, CLUSTER_ISSUER_RESOURCE, ISSUER_RESOURCE } from './resources.js';
import { defaultCaSigner, type CaSigner } from './signer.js';
import { withConditions } from './status-helpers.js';

export interface CertManagerEmulatorOptions {
  /** Where ClusterIssuers find their CA Secrets (cert-manager's --cluster-resource-namespace). Default 'cert-manager'. */
  readonly clusterResourceNamespace?: string;
  readonly behaviour?: Partial<CertManagerBehaviour>;
  readonly now?: () => Date;
  /** Replace the CA issuer's signing function (e.g. to produce a deliberately broken certificate). */
  readonly signer?: CaSigner;
}

export interface CaIssuerOptions {
  readonly name: string;
  readonly kind?: 'Issuer' | 'ClusterIssuer';
  /** Namespace of an Issuer (required for kind Issuer). */
  readonly namespace?: string;
  /** The CA key pair stored as tls.crt / tls.key. */
  readonly ca: { readonly certificatePem: string; readonly privateKeyPem: string };
  /** Default `<name>-ca-key-pair`. */
  readonly secretName?: string;
}

export interface AcmeIssuerOptions {
  readonly name: string;
  readonly kind?: 'Issuer' | 'ClusterIssuer';
  readonly namespace?: string;
  readonly server?: string;
}

export class CertManagerEmulator {
  readonly resources: CertManagerResources;
  readonly clusterResourceNamespace: string;
  private behaviour: CertManagerBehaviour;
  private readonly rules: BehaviourRule[] = [];
  private readonly controller: SimulatedCertManagerController;
  private readonly now: () => Date;

  private constructor(
    private readonly kube: KubernetesEmulator,
    options: CertManagerEmulatorOptions,
  ) {
    this.resources = {
      certificateRequests: kube.registerResource(CERTIFICATE_REQUEST_RESOURCE),
      issuers: kube.registerResource(ISSUER_RESOURCE),
      clusterIssuers: kube.registerResource(CLUSTER_ISSUER_RESOURCE),
      secrets: kube.secrets,
    };
    this.clusterResourceNamespace = options.clusterResourceNamespace ?? 'cert-manager';
    this.behaviour = { ...DEFAULT_BEHAVIOUR, ...options.behaviour };
    this.now = options.now ?? (() => new Date());
    this.controller = new SimulatedCertManagerController(kube.store, this.resources, {
      clusterResourceNamespace: this.clusterResourceNamespace,
      now: this.now,
      signer: options.signer ?? defaultCaSigner,
      behaviour: () => this.behaviour,
      rules: () => this.rules,
    });
    this.controller.start();
  }

  /** Registers the cert-manager.io resources on `kube` and starts the simulated controller. */
  static install(kube: KubernetesEmulator, options: CertManagerEmulatorOptions = {}): CertManagerEmulator {
    return new CertManagerEmulator(kube, options);
  }

  /** Changes what happens to requests created from now on. */
  setBehaviour(change: Partial<CertManagerBehaviour>): void {
    this.behaviour = { ...this.behaviour, ...change };
  }

  resetBehaviour(): void {
    this.behaviour = { ...DEFAULT_BEHAVIOUR };
    this.rules.length = 0;
  }

  /** Behaviour for the requests `match` selects (first matching rule wins). Returns a remover. */
  addRule(rule: BehaviourRule): () => void {
    this.rules.push(rule);
    return () => {
      const index = this.rules.indexOf(rule);
      if (index >= 0) this.rules.splice(index, 1);
    };
  }

  createCaIssuer(options: CaIssuerOptions): KubeObject {
    const kind = options.kind ?? 'Issuer';
    const secretName = options.secretName ?? `${options.name}-ca-key-pair`;
    const secretNamespace = kind === 'ClusterIssuer' ? this.clusterResourceNamespace : this.namespaceFor(options);
    this.kube.store.create(this.resources.secrets, secretNamespace, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: secretName, namespace: secretNamespace },
      type: 'kubernetes.io/tls',
      data: {
        'tls.crt': Buffer.from(options.ca.certificatePem).toString('base64'),
        'tls.key': Buffer.from(options.ca.privateKeyPem).toString('base64'),
      },
    });
    return this.createIssuer(kind, options, { ca: { secretName } }, 'KeyPairVerified', 'Signing CA verified');
  }

  createAcmeIssuer(options: AcmeIssuerOptions): KubeObject {
    const acme = {
      server: options.server ?? 'https://acme-staging-v02.api.letsencrypt.org/directory',
      privateKeySecretRef: { name: `${options.name}-account-key` },
      solvers: [{ http01: { ingress: { ingressClassName: 'nginx' } } }],
    };
    return this.createIssuer(options.kind ?? 'Issuer', options, { acme }, 'ACMEAccountRegistered', 'The ACME account was registered with the ACME server');
  }

  /** Every CertificateRequest, optionally only one namespace's. */
  listCertificateRequests(namespace?: string): KubeObject[] {
    return this.kube.store.list(this.resources.certificateRequests, namespace === undefined ? {} : { namespace }).items;
  }

  /** Stops the simulated controller (the registered resources keep being served). */
  stop(): void {
    this.controller.stop();
  }

  private namespaceFor(options: { readonly namespace?: string; readonly name: string }): string {
    if (options.namespace === undefined) throw new Error(`Issuer ${options.name} needs a namespace`);
    return options.namespace;
  }

  private createIssuer(kind: 'Issuer' | 'ClusterIssuer', options: { readonly name: string; readonly namespace?: string }, spec: Record<string, unknown>, reason: string, message: string): KubeObject {
    const def = kind === 'ClusterIssuer' ? this.resources.clusterIssuers : this.resources.issuers;
    const namespace = kind === 'ClusterIssuer' ? undefined : this.namespaceFor(options);
    const created = this.kube.store.create(def, namespace, {
      apiVersion: 'cert-manager.io/v1',
      kind,
      metadata: { name: options.name, ...(namespace === undefined ? {} : { namespace }) },
      spec,
    });
    const ready = withConditions(created, [{ type: 'Ready', status: 'True', reason, message }], this.now());
    return this.kube.store.replace(def, namespace, options.name, ready, { subresource: 'status' });
  }
}
