// Tresor: the built-in CA. The root lives in a secret (default fsm-system/fsm-ca-bundle); on start
// it is loaded, or generated and created when absent. When several replicas start at once exactly
// one create succeeds (409 AlreadyExists for the others), and the losers load the winner's root.
import { DEFAULT_KEY_ALGORITHM, keyFamilyOf, systemClock, type Clock, type KeyAlgorithm } from '@fsm-certs/core';
import { createRootCa, exportPrivateKeyPem, generateKeyPairOffThread, isX509Error, issueLeaf, parseCsr } from '@fsm-certs/x509';
import type { IssuedLeaf, Issuer } from '@fsm-certs/x509';
import { isProviderError, ProviderError } from '../errors.js';
import type { CertificateProvider, IssuedCertificate, IssueRequest, TrustBundle } from '../provider.js';
import type { SecretRef, SecretStore } from '../secret-store/types.js';
import { CA_CERT_KEY, CA_PRIVATE_KEY_KEY, invalidBundle, issuerFromBundle } from './ca-bundle.js';

export interface TresorStartOptions {
  readonly store: SecretStore;
  /** Control-plane namespace; default fsm-system. */
  readonly namespace?: string;
  /** caBundleSecretName; default fsm-ca-bundle. */
  readonly secretName?: string;
  /** Validity of a newly generated root; default a decade (87600h). */
  readonly rootValidityMs?: number;
  /** Key of a newly generated root; default ecdsa-p256. */
  readonly keyAlgorithm?: KeyAlgorithm;
  readonly clock?: Clock;
}

export class TresorProvider implements CertificateProvider {
  readonly kind = 'tresor' as const;

  private constructor(
    /** The root that signs; its key never leaves this object. */
    readonly issuer: Issuer,
    readonly secretRef: SecretRef,
    /** True when this instance generated the root (it won the create). */
    readonly createdRoot: boolean,
    private readonly store: SecretStore,
    private readonly clock: Clock,
  ) {}

  static async start(options: TresorStartOptions): Promise<TresorProvider> {
    const clock = options.clock ?? systemClock;
    const ref: SecretRef = { namespace: options.namespace ?? 'fsm-system', name: options.secretName ?? 'fsm-ca-bundle' };
    const { store } = options;
    let secret = await store.get(ref);
    let created = false;
    if (secret === undefined) {
      const root = createRootCa({
        ...(options.rootValidityMs === undefined ? {} : { validityMs: options.rootValidityMs }),
        keyAlgorithm: options.keyAlgorithm ?? DEFAULT_KEY_ALGORITHM,
        now: new Date(clock.now()),
      });
      try {
        secret = await store.create(ref, {
          [CA_CERT_KEY]: Buffer.from(root.certificatePem),
          [CA_PRIVATE_KEY_KEY]: Buffer.from(root.privateKeyPem),
        });
        created = true;
      } catch (error) {
        if (!(isProviderError(error) && error.code === 'SECRET_ALREADY_EXISTS')) throw error;
        // Another replica won the race: use its root, never ours.
        secret = await store.get(ref);
        if (secret === undefined) {
          throw new ProviderError('SECRET_STORE_ERROR', `CA bundle secret ${ref.namespace}/${ref.name} was created and deleted again while starting; restart to retry.`, {
            retryable: true,
            cause: error,
          });
        }
      }
    }
    const issuer = issuerFromBundle(store, secret, new Date(clock.now()));
    return new TresorProvider(issuer, ref, created, store, clock);
  }

  async issue(request: IssueRequest, signal?: AbortSignal): Promise<IssuedCertificate> {
    signal?.throwIfAborted();
    let leaf: IssuedLeaf;
    let privateKeyPem: string | undefined;
    let now: Date;
    try {
      // CSR mode certifies the CSR's key, but the identity comes from the request (the
      // authenticated caller), never from the CSR's subject or SANs.
      let publicKey = request.csrPem === undefined ? undefined : parseCsr(request.csrPem).publicKey;
      // An RSA key takes from 50 ms to seconds of CPU: made on the thread pool, so the job lock's
      // renewal and the heartbeat keep running meanwhile. An EC key costs microseconds, made inline.
      if (publicKey === undefined && keyFamilyOf(request.keyAlgorithm) === 'rsa') {
        const pair = await generateKeyPairOffThread(request.keyAlgorithm);
        signal?.throwIfAborted();
        publicKey = pair.publicKey;
        privateKeyPem = exportPrivateKeyPem(pair.privateKey);
      }
      now = new Date(this.clock.now());
      leaf = issueLeaf(this.issuer, {
        commonName: request.commonName,
        dnsNames: request.dnsNames,
        uris: request.uris,
        ipAddresses: request.ipAddresses,
        validityMs: request.validityMs,
        now,
        ...(publicKey === undefined ? { keyAlgorithm: request.keyAlgorithm } : { publicKey }),
      });
      privateKeyPem ??= leaf.privateKeyPem;
    } catch (error) {
      throw this.mapIssueError(error);
    }
    const warnings: string[] = [];
    if (leaf.notAfter.getTime() < now.getTime() + request.validityMs - 1000) {
      warnings.push(`validity capped at the root's expiry ${this.issuer.notAfter.toISOString()}; rotate the root soon`);
    }
    return {
      commonName: request.commonName,
      certificatePem: leaf.certificatePem,
      chainPem: [],
      issuingCaPem: this.issuer.certificatePem,
      trustedCasPem: [this.issuer.certificatePem],
      ...(privateKeyPem === undefined ? {} : { privateKeyPem }),
      serialNumber: leaf.serialNumber,
      notBefore: leaf.notBefore,
      notAfter: leaf.notAfter,
      dnsNames: leaf.dnsNames,
      issuerId: this.issuer.fingerprint,
      provider: 'tresor',
      warnings,
    };
  }

  async trustBundle(): Promise<TrustBundle> {
    return { issuingCaPem: this.issuer.certificatePem, trustedCasPem: [this.issuer.certificatePem] };
  }

  async close(): Promise<void> {
    // Nothing to release: the root key is in memory only.
  }

  private mapIssueError(error: unknown): unknown {
    if (!isX509Error(error)) return error;
    if (error.code === 'CA_EXPIRED' || (error.code === 'VALIDITY_TOO_SHORT' && this.clock.now() + 10 * 60_000 > this.issuer.notAfter.getTime())) {
      return invalidBundle(this.store, this.secretRef, error.message, error);
    }
    return new ProviderError('INVALID_REQUEST', error.message, { cause: error, httpStatus: error.httpStatus >= 500 ? 500 : 400 });
  }
}
