// The simulated cert-manager controller: an approver, then a CA issuer, working in-process on
// the emulator's store exactly as the real controllers work through the API (status
// subresource writes, conditions with reasons). Test hooks decide what happens to a request.
import { parseDuration } from '@fsm-certs/core';
import { loadIssuer, parseCsr, splitPemBundle, type Issuer } from '@fsm-certs/x509';
import type { ObjectStore } from '../object-store.js';
import type { KubeObject, ResourceDefinition } from '../types.js';
import { decideBehaviour, type CertManagerBehaviour, type BehaviourRule } from './behaviour.js';
import { readCsrDetails } from './csr.js';
import { decodeRequestPem } from './resources.js';
import { defaultCaSigner, type CaSigner } from './signer.js';
import { requestedUsagesMismatch } from './usage-check.js';
import { DEFAULT_USAGES, isCertManagerUsage, type CertManagerUsage } from './usages.js';
import {
  conditionOf,
  pemFromDer,
  readIssuerRef,
  withConditions,
  type ConditionInput,
} from './status-helpers.js';

/** cert-manager's default when spec.duration is unset: 90 days. */
const DEFAULT_DURATION_MS = 2160 * 3600 * 1000;

export interface CertManagerResources {
  readonly certificateRequests: ResourceDefinition;
  readonly issuers: ResourceDefinition;
  readonly clusterIssuers: ResourceDefinition;
  readonly secrets: ResourceDefinition;
}

export interface ControllerOptions {
  /** Namespace holding the CA Secrets of ClusterIssuers (cert-manager's --cluster-resource-namespace). */
  readonly clusterResourceNamespace: string;
  readonly now: () => Date;
  readonly signer: CaSigner;
  readonly behaviour: () => CertManagerBehaviour;
  readonly rules: () => readonly BehaviourRule[];
}

export class SimulatedCertManagerController {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly unsubscribes: Array<() => void> = [];
  /** What each live request was decided to get when it was created, by namespace/name. */
  private readonly decided = new Map<string, CertManagerBehaviour>();

  constructor(
    private readonly store: ObjectStore,
    private readonly resources: CertManagerResources,
    private readonly options: ControllerOptions,
  ) {}

  start(): void {
    this.unsubscribes.push(
      this.store.watch(this.resources.certificateRequests, {}, (event) => {
        const { namespace, name } = event.object.metadata;
        if (namespace === undefined || name === undefined) return;
        const key = `${namespace}/${name}`;
        if (event.type === 'DELETED') {
          this.decided.delete(key);
          return;
        }
        if (event.type !== 'ADDED') return;
        const behaviour = decideBehaviour(this.options.behaviour(), this.options.rules(), event.object);
        this.decided.set(key, behaviour);
        this.later(behaviour.delayMs, () => this.approve(namespace, name, behaviour));
      }),
      // cert-manager re-syncs an issuer when its Secret changes, and the requests waiting on a
      // not-ready issuer with it: a CA key pair created late still gets them signed.
      this.store.watch(this.resources.secrets, {}, (event) => {
        if (event.type === 'ADDED' || event.type === 'MODIFIED') this.resyncWaiting();
      }),
    );
  }

  stop(): void {
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  /** Approved requests not yet issued, failed or denied go through the issuer again. */
  private resyncWaiting(): void {
    for (const request of this.store.list(this.resources.certificateRequests, {}).items) {
      const { namespace, name } = request.metadata;
      if (namespace === undefined || name === undefined || conditionOf(request, 'Approved')?.status !== 'True') continue;
      const ready = conditionOf(request, 'Ready');
      if (ready !== undefined && ready.reason !== 'Pending') continue;
      const behaviour = this.decided.get(`${namespace}/${name}`) ?? decideBehaviour(this.options.behaviour(), this.options.rules(), request);
      this.later(behaviour.delayMs, () => this.sign(namespace, name, behaviour));
    }
  }

  private later(delayMs: number, step: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      step();
    }, delayMs);
    this.timers.add(timer);
  }

  private read(namespace: string, name: string): KubeObject | undefined {
    try {
      return this.store.get(this.resources.certificateRequests, namespace, name);
    } catch {
      return undefined; // deleted meanwhile: nothing left to do
    }
  }

  private writeStatus(request: KubeObject, conditions: readonly ConditionInput[], extra: Record<string, unknown> = {}): KubeObject | undefined {
    const { namespace, name } = request.metadata;
    if (namespace === undefined || name === undefined) return undefined;
    const next = withConditions(request, conditions, this.options.now(), extra);
    try {
      return this.store.replace(this.resources.certificateRequests, namespace, name, next, { subresource: 'status' });
    } catch {
      return undefined; // deleted or changed meanwhile: the requester has moved on
    }
  }

  private approve(namespace: string, name: string, behaviour: CertManagerBehaviour): void {
    const request = this.read(namespace, name);
    if (request === undefined) return;
    if (conditionOf(request, 'Approved') !== undefined || conditionOf(request, 'Denied') !== undefined) {
      this.later(behaviour.delayMs, () => this.sign(namespace, name, behaviour));
      return;
    }
    if (behaviour.approval === 'ignore') return;
    if (behaviour.approval === 'deny') {
      const denied = this.writeStatus(request, [
        { type: 'Denied', status: 'True', reason: 'emulator.fsm-certs.io', message: behaviour.denyMessage },
      ]);
      if (denied !== undefined) {
        this.writeStatus(denied, [{ type: 'Ready', status: 'False', reason: 'Denied', message: 'The CertificateRequest was denied by an approval controller' }], {
          failureTime: this.options.now().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        });
      }
      return;
    }
    const approved = this.writeStatus(request, [
      { type: 'Approved', status: 'True', reason: 'cert-manager.io', message: 'Certificate request has been approved by cert-manager.io' },
    ]);
    if (approved !== undefined) this.later(behaviour.delayMs, () => this.sign(namespace, name, behaviour));
  }

  private pending(request: KubeObject, message: string): void {
    this.writeStatus(request, [{ type: 'Ready', status: 'False', reason: 'Pending', message }]);
  }

  private failed(request: KubeObject, message: string, invalid = false): void {
    const failureTime = this.options.now().toISOString().replace(/\.\d{3}Z$/, 'Z');
    this.writeStatus(
      request,
      [
        ...(invalid ? [{ type: 'InvalidRequest', status: 'True' as const, reason: 'RequestValidationFailed', message }] : []),
        { type: 'Ready', status: 'False', reason: 'Failed', message },
      ],
      { failureTime },
    );
  }

  /** The CA issuer's sync of one approved request. */
  private sign(namespace: string, name: string, behaviour: CertManagerBehaviour): void {
    const request = this.read(namespace, name);
    if (request === undefined || conditionOf(request, 'Approved')?.status !== 'True') return;
    const ready = conditionOf(request, 'Ready');
    if (ready?.status === 'True' || ready?.reason === 'Failed' || ready?.reason === 'Denied') return;
    const ref = readIssuerRef(request);
    if (ref === undefined || (ref.group !== '' && ref.group !== 'cert-manager.io')) return; // an external issuer's business

    const issuerDef = ref.kind === 'ClusterIssuer' ? this.resources.clusterIssuers : this.resources.issuers;
    let issuerObject: KubeObject;
    try {
      issuerObject = this.store.get(issuerDef, ref.kind === 'ClusterIssuer' ? undefined : namespace, ref.name);
    } catch {
      this.pending(request, `Referenced "${ref.kind}" not found: ${issuerDef.plural}.cert-manager.io "${ref.name}" not found`);
      return;
    }
    const spec = (issuerObject.spec ?? {}) as { acme?: unknown; ca?: { secretName?: unknown } };
    if (spec.acme !== undefined) {
      // The real ACME issuer would create an Order and wait for a challenge nobody can solve here.
      this.pending(request, 'Waiting on certificate issuance from order: the emulator does not solve ACME challenges');
      return;
    }
    const secretName = typeof spec.ca?.secretName === 'string' ? spec.ca.secretName : undefined;
    if (secretName === undefined) return; // not a CA issuer: nothing the emulator signs with
    const secretNamespace = ref.kind === 'ClusterIssuer' ? this.options.clusterResourceNamespace : namespace;
    const ca = this.loadCa(secretNamespace, secretName);
    if (typeof ca === 'string') {
      this.pending(request, ca);
      return;
    }

    const requestSpec = (request.spec ?? {}) as { request?: unknown; usages?: unknown; isCA?: unknown; duration?: unknown };
    const csrPem = decodeRequestPem(requestSpec.request);
    let parsedCsr;
    let details;
    try {
      if (csrPem === undefined) throw new Error('spec.request is not a PEM certificate request');
      parsedCsr = parseCsr(csrPem);
      details = readCsrDetails(Buffer.from(pemBody(csrPem), 'base64'));
    } catch (error) {
      this.failed(request, `Failed to decode CSR in spec.request: ${error instanceof Error ? error.message : String(error)}`, true);
      return;
    }
    const usages: CertManagerUsage[] = Array.isArray(requestSpec.usages) && requestSpec.usages.length > 0
      ? requestSpec.usages.filter(isCertManagerUsage)
      : [...DEFAULT_USAGES];
    const isCA = requestSpec.isCA === true;
    const mismatch = requestedUsagesMismatch(details, usages, isCA);
    if (mismatch !== undefined) {
      this.failed(request, mismatch, true);
      return;
    }
    if (behaviour.signing === 'stall') return;
    if (behaviour.signing === 'fail') {
      this.failed(request, behaviour.failMessage);
      return;
    }
    let durationMs = DEFAULT_DURATION_MS;
    try {
      if (typeof requestSpec.duration === 'string' && requestSpec.duration !== '') durationMs = parseDuration(requestSpec.duration);
      const certificateDer = this.options.signer({ csrPem, csr: details, parsedCsr, usages, isCA, durationMs, issuer: ca.issuer, now: this.options.now() });
      const certificatePem = [pemFromDer(certificateDer), ...ca.intermediates].join('');
      this.writeStatus(
        request,
        [{ type: 'Ready', status: 'True', reason: 'Issued', message: 'Certificate fetched from issuer successfully' }],
        {
          certificate: Buffer.from(certificatePem).toString('base64'),
          ...(behaviour.omitCa ? {} : { ca: Buffer.from(ca.rootPem).toString('base64') }),
        },
      );
    } catch (error) {
      this.failed(request, `Error signing certificate: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** The signing CA from a Secret with tls.crt/tls.key, or why it cannot be used (a Pending message). */
  private loadCa(namespace: string, name: string): { issuer: Issuer; intermediates: string[]; rootPem: string } | string {
    let secret: KubeObject;
    try {
      secret = this.store.get(this.resources.secrets, namespace, name);
    } catch {
      return `Referenced secret ${namespace}/${name} not found: secrets "${name}" not found`;
    }
    const data = (secret.data ?? {}) as Record<string, unknown>;
    const decode = (key: string): string | undefined => (typeof data[key] === 'string' ? Buffer.from(data[key], 'base64').toString('utf8') : undefined);
    const tlsCrt = decode('tls.crt');
    const tlsKey = decode('tls.key');
    if (tlsCrt === undefined || tlsKey === undefined) return `Secret ${namespace}/${name} lacks tls.crt or tls.key`;
    try {
      const chain = splitPemBundle(tlsCrt);
      const [signing] = chain;
      if (signing === undefined) return `Secret ${namespace}/${name} has no certificate in tls.crt`;
      const issuer = loadIssuer(signing, tlsKey, this.options.now());
      // cert-manager: status.certificate carries the leaf plus intermediates; status.ca the root.
      const last = chain[chain.length - 1] ?? signing;
      const caCrt = decode('ca.crt');
      const rootPem = chain.length > 1 ? last : (caCrt !== undefined ? (splitPemBundle(caCrt)[0] ?? signing) : signing);
      const intermediates = chain.length > 1 ? chain.slice(0, -1) : caCrt !== undefined && rootPem !== signing ? [signing] : [];
      return { issuer, intermediates, rootPem };
    } catch (error) {
      return `Error getting keypair for CA issuer: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
}

function pemBody(pem: string): string {
  return pem.replace(/-----(BEGIN|END)[^-]+-----/g, '').replace(/\s+/g, '');
}
