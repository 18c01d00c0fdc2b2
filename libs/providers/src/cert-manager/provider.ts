// CertManagerProvider: the adapter from our CertificateProvider interface to cert-manager. It
// runs one CertificateRequest's life cycle per issue: create -> wait -> read -> delete (always).
import { formatDuration, KEY_ALGORITHMS, systemClock, withTimeout, type Clock } from '@fsm-certs/core';
import { MIN_LEAF_VALIDITY_MS, splitPemBundle } from '@fsm-certs/x509';
import { setMaxListeners } from 'node:events';
import type { KubeConfig } from '@kubernetes/client-node';
import { z } from 'zod';
import { ProviderError } from '../errors.js';
import type { CertificateProvider, IssueRequest, IssuedCertificate, TrustBundle } from '../provider.js';
import type { SecretStore } from '../secret-store/types.js';
import { KubernetesCertManagerClient, type CertManagerClient } from './client.js';
import { commonNameHash, prepareCsr } from './csr-request.js';
import { resolveCertManagerOptions, type CertManagerOptions, type ResolvedCertManagerOptions } from './options.js';
import {
  COMMON_NAME_HASH_LABEL,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  type CertificateRequestBody,
} from './resources.js';
import { assembleIssued } from './result.js';
import { waitForCertificateRequest } from './wait.js';

/** pino-compatible; only warnings are logged (a request that could not be deleted). */
export interface ProviderLogger {
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface CertManagerProviderDeps {
  readonly client: CertManagerClient;
  /** Reads ca.crt from the CA bundle Secret; only `get` is used (`kind` words the missing-bundle advice). */
  readonly secrets: Pick<SecretStore, 'get'> & { readonly kind?: SecretStore['kind'] };
  readonly logger?: ProviderLogger;
  readonly clock?: Clock;
}

const issueRequestSchema = z.object({
  commonName: z.string().min(1).max(253),
  dnsNames: z.array(z.string().min(1)).max(100),
  uris: z.array(z.string().min(1)).max(100),
  ipAddresses: z.array(z.string().min(1)).max(100),
  validityMs: z.number().int().min(MIN_LEAF_VALIDITY_MS, 'must be at least 10 minutes'),
  keyAlgorithm: z.enum(KEY_ALGORITHMS),
  csrPem: z.string().min(1).optional(),
});

/**
 * How long the delete of a finished (or cancelled) CertificateRequest may take before we give up
 * on it and log the kubectl command that removes it: a hung API server must not hold up a stop.
 */
export const DELETE_REQUEST_TIMEOUT_MS = 5_000;

export class CertManagerProvider implements CertificateProvider {
  readonly kind = 'cert-manager' as const;
  /**
   * Once cancelled, an issue finishes the one Kubernetes call it is in (create or issuer read),
   * stops waiting at once, and deletes its CertificateRequest (bounded by DELETE_REQUEST_TIMEOUT_MS).
   */
  readonly cancelSettleMs = 2 * DELETE_REQUEST_TIMEOUT_MS;
  readonly options: ResolvedCertManagerOptions;
  private issuerChecked: Promise<void> | undefined;
  private readonly closing = new AbortController();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly clock: Clock;

  constructor(
    options: CertManagerOptions,
    private readonly deps: CertManagerProviderDeps,
  ) {
    this.options = resolveCertManagerOptions(options);
    this.clock = deps.clock ?? systemClock;
    // Every issue in flight listens on this signal; hundreds at once are expected, not a leak.
    setMaxListeners(0, this.closing.signal);
  }

  /** Builds the provider and checks the issuer at once, so a misconfiguration stops startup. */
  static async create(options: CertManagerOptions, deps: CertManagerProviderDeps): Promise<CertManagerProvider> {
    const provider = new CertManagerProvider(options, deps);
    await provider.verifyIssuer();
    return provider;
  }

  /**
   * Reads the referenced Issuer/ClusterIssuer: missing -> CONFIGURATION_INVALID, ACME ->
   * UNSUPPORTED_ISSUER. External issuer groups are not inspected (they cannot be ACME).
   * A success is remembered; a failure is checked again on the next call.
   */
  verifyIssuer(): Promise<void> {
    this.issuerChecked ??= this.checkIssuer().catch((error: unknown) => {
      this.issuerChecked = undefined;
      throw error;
    });
    return this.issuerChecked;
  }

  async issue(request: IssueRequest, signal?: AbortSignal): Promise<IssuedCertificate> {
    if (this.closing.signal.aborted) throw new ProviderError('BACKEND_UNAVAILABLE', 'The cert-manager provider is shut down; retry on another instance.');
    const work = this.issueOnce(request, signal);
    this.inFlight.add(work);
    try {
      return await work;
    } finally {
      this.inFlight.delete(work);
    }
  }

  async trustBundle(): Promise<TrustBundle> {
    const pems = await this.readBundle();
    if (pems === undefined) throw this.bundleMissing();
    const [issuingCaPem] = pems;
    if (issuingCaPem === undefined) throw this.bundleMissing();
    return { issuingCaPem, trustedCasPem: pems };
  }

  /** Cancels waits in flight (each still deletes its CertificateRequest) and waits for them. */
  async close(): Promise<void> {
    this.closing.abort(new Error('provider closed'));
    await Promise.allSettled([...this.inFlight]);
  }

  private async issueOnce(request: IssueRequest, signal: AbortSignal | undefined): Promise<IssuedCertificate> {
    const parsed = issueRequestSchema.safeParse(request);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ProviderError('INVALID_REQUEST', `Issue request field ${issue?.path.join('.') ?? ''} is invalid: ${issue?.message ?? 'rejected'}`);
    }
    await this.verifyIssuer();
    const csr = prepareCsr(request);
    const { namespace } = this.options;
    const created = await this.deps.client.createCertificateRequest(this.requestBody(request, csr.csrPem, csr.usages));
    const name = created.metadata.name;
    let waited;
    try {
      waited = await waitForCertificateRequest({
        client: this.deps.client,
        namespace,
        name,
        timeoutMs: this.options.timeoutMs,
        pollIntervalMs: this.options.pollIntervalMs,
        signal: signal === undefined ? this.closing.signal : AbortSignal.any([signal, this.closing.signal]),
      });
    } finally {
      // Every path deletes the request: cert-manager keeps them forever otherwise.
      await this.deleteRequest(name);
    }
    const bundlePems = waited.ca === undefined ? await this.readBundle() : await this.readBundle().catch(() => undefined);
    return assembleIssued({
      requestName: `${namespace}/${name}`,
      commonName: request.commonName,
      certificate: waited.certificate,
      ca: waited.ca,
      bundlePems,
      publicKey: csr.publicKey,
      privateKeyPem: csr.privateKeyPem,
      warnings: csr.warnings,
      bundleMissing: () => this.bundleMissing(),
      now: new Date(this.clock.now()),
    });
  }

  private requestBody(request: IssueRequest, csrPem: string, usages: readonly string[]): CertificateRequestBody {
    return {
      apiVersion: 'cert-manager.io/v1',
      kind: 'CertificateRequest',
      metadata: {
        generateName: 'fsm-',
        namespace: this.options.namespace,
        labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [COMMON_NAME_HASH_LABEL]: commonNameHash(request.commonName) },
      },
      spec: {
        request: Buffer.from(csrPem).toString('base64'),
        issuerRef: { name: this.options.issuerName, kind: this.options.issuerKind, group: this.options.issuerGroup },
        duration: formatDuration(request.validityMs),
        usages: [...usages],
        isCA: false,
      },
    };
  }

  private async deleteRequest(name: string): Promise<void> {
    try {
      await withTimeout(this.deps.client.deleteCertificateRequest(this.options.namespace, name), DELETE_REQUEST_TIMEOUT_MS);
    } catch (error) {
      this.deps.logger?.warn(
        { namespace: this.options.namespace, certificateRequest: name, err: error instanceof Error ? error.message : String(error) },
        `could not delete CertificateRequest; remove it with kubectl delete certificaterequest -n ${this.options.namespace} ${name}`,
      );
    }
  }

  private async checkIssuer(): Promise<void> {
    const { issuerName, issuerKind, issuerGroup, namespace } = this.options;
    if (issuerGroup !== 'cert-manager.io') return;
    const where = issuerKind === 'ClusterIssuer' ? `ClusterIssuer ${issuerName}` : `Issuer ${namespace}/${issuerName}`;
    const issuer = await this.deps.client.getIssuer({ name: issuerName, kind: issuerKind, group: issuerGroup, namespace });
    if (issuer === undefined) {
      throw new ProviderError(
        'CONFIGURATION_INVALID',
        `${where} (cert-manager.io) does not exist. Create a CA issuer before installing with cert-manager, or point certmanager.issuerName / certmanager.issuerKind at an existing one.`,
      );
    }
    if (issuer.spec?.acme !== undefined) {
      throw new ProviderError(
        'UNSUPPORTED_ISSUER',
        `${where} is an ACME issuer; ACME certificates are not supported for service mesh certificates. Configure a CA (or Vault/Venafi) issuer and set certmanager.issuerName to it.`,
      );
    }
  }

  /** ca.crt of the bundle Secret as PEM certificates; undefined when the Secret or the key is absent. */
  private async readBundle(): Promise<string[] | undefined> {
    const secret = await this.deps.secrets.get({ namespace: this.options.namespace, name: this.options.caBundleSecretName });
    const caCrt = secret?.data['ca.crt'];
    if (caCrt === undefined) return undefined;
    try {
      const pems = splitPemBundle(caCrt.toString('utf8'));
      if (pems.length === 0) throw new Error('no CERTIFICATE block');
      return pems;
    } catch (error) {
      throw new ProviderError(
        'CA_BUNDLE_INVALID',
        `ca.crt in Secret ${this.options.namespace}/${this.options.caBundleSecretName} holds no usable PEM certificate; replace it with the issuer's root CA certificate.`,
        { cause: error },
      );
    }
  }

  private bundleMissing(): ProviderError {
    const { namespace, caBundleSecretName } = this.options;
    if (this.deps.secrets.kind === 'file') {
      // kubectl would not help: this process reads secrets from files, not from the cluster.
      return new ProviderError(
        'CA_BUNDLE_MISSING',
        `The CA bundle ${namespace}/${caBundleSecretName} has no ca.crt in the file secret store (FSM_SECRET_STORE=file), and the issuer did not return its CA. A Secret created with kubectl is read only from the Kubernetes secret store: set FSM_SECRET_STORE=kubernetes (the default in a pod or with KUBECONFIG set).`,
      );
    }
    return new ProviderError(
      'CA_BUNDLE_MISSING',
      `The CA bundle Secret ${namespace}/${caBundleSecretName} has no ca.crt and the issuer did not return its CA. Store the issuer's root CA certificate: kubectl create secret -n ${namespace} generic ${caBundleSecretName} --from-file ca.crt`,
    );
  }
}

export interface CertManagerProviderFactoryOptions extends CertManagerOptions {
  readonly kubeConfig: KubeConfig;
  readonly secrets: CertManagerProviderDeps['secrets'];
  readonly logger?: ProviderLogger;
}

/** The production wiring: client-node against the cluster in `kubeConfig`, issuer checked at once. */
export function createCertManagerProvider(options: CertManagerProviderFactoryOptions): Promise<CertManagerProvider> {
  const { kubeConfig, secrets, logger, ...providerOptions } = options;
  return CertManagerProvider.create(providerOptions, {
    client: new KubernetesCertManagerClient(kubeConfig),
    secrets,
    ...(logger === undefined ? {} : { logger }),
  });
}
