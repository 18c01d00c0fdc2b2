// Tresor: the built-in CA. The root lives in a secret (default fsm-system/fsm-ca-bundle); on start
// it is loaded, or generated and created when absent. When several replicas start at once exactly
// one create succeeds (409 AlreadyExists for the others), and the losers load the winner's root.
import { DEFAULT_KEY_ALGORITHM, keyFamilyOf, systemClock, type Clock, type KeyAlgorithm } from '@fsm-certs/core';
import { createRootCa, derToPem, exportPrivateKeyDer, generateKeyPairOffThread, isX509Error, issueLeaf, loadIssuer, parseCsr } from '@fsm-certs/x509';
import type { IssuedLeaf, Issuer } from '@fsm-certs/x509';
import { isProviderError, ProviderError } from '../errors.js';
import type { CertificateProvider, IssuedCertificate, IssueRequest, TrustBundle } from '../provider.js';
import type { SecretRef, SecretStore, StoredSecret } from '../secret-store/types.js';
import { CA_CERT_KEY, CA_PRIVATE_KEY_KEY, invalidBundle, issuerFromBundle } from './ca-bundle.js';
import {
  ROTATION_STATE_KEY,
  STANDBY_CERT_KEY,
  STANDBY_PRIVATE_KEY_KEY,
  decodeRotationState,
  idleState,
  type RotationState,
} from './rotation-state.js';
import { applyStep, type RotationStep } from './rotation-steps.js';

/** What a Tresor provider signs and trusts, as read from one version of the CA bundle secret. */
export interface TresorMaterial {
  /** The root that signs (ca.crt / private.key). */
  readonly signer: Issuer;
  /** The other root trusted during a rotation (standby.crt / standby.key). */
  readonly standby: Issuer | undefined;
  readonly rotation: RotationState;
  readonly resourceVersion: string;
}

function trustedRootsOf({ signer, standby, rotation }: TresorMaterial): Issuer[] {
  if (standby === undefined) return [signer];
  return standby.fingerprint === rotation.oldFingerprint ? [standby, signer] : [signer, standby];
}

function materialFrom(store: SecretStore, secret: StoredSecret, now: Date): TresorMaterial {
  const signer = issuerFromBundle(store, secret, now);
  const decoded = decodeRotationState(secret.data[ROTATION_STATE_KEY]);
  if (decoded instanceof Error) throw invalidBundle(store, secret.ref, decoded.message);
  const rotation = decoded ?? idleState(now);
  let standby: Issuer | undefined;
  const standbyCert = secret.data[STANDBY_CERT_KEY];
  const standbyKey = secret.data[STANDBY_PRIVATE_KEY_KEY];
  if (standbyCert !== undefined && standbyKey !== undefined && rotation.stage !== 'idle' && rotation.stage !== 'retired') {
    try {
      standby = loadIssuer(standbyCert.toString('utf8'), standbyKey.toString('utf8'), now);
    } catch (error) {
      throw invalidBundle(store, secret.ref, `${STANDBY_CERT_KEY} / ${STANDBY_PRIVATE_KEY_KEY}: ${error instanceof Error ? error.message : String(error)}`, error);
    }
  }
  return { signer, standby, rotation, resourceVersion: secret.resourceVersion };
}

/**
 * What Tresor.issue returns. A generated key comes as its PKCS#8 DER, and its PEM is made from
 * that DER only when read (then kept): the ca-service seals the DER of every key it generates and
 * never reads the PEM, which was a base64 pass and ~0.4 KB of strings per certificate. The getter
 * lives on the prototype, so no closure is made per certificate (an object literal's getter costs
 * more than the PEM); like any accessor there, it is not copied by a spread or by JSON.
 */
class TresorCertificate implements IssuedCertificate {
  readonly certificatePem: string;
  readonly chainPem: readonly string[] = [];
  readonly issuingCaPem: string;
  readonly trustedCasPem: readonly string[];
  readonly certificateDer: Buffer;
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly dnsNames: readonly string[];
  readonly issuerId: string;
  readonly provider = 'tresor' as const;
  #privateKeyPem: string | undefined;

  constructor(
    readonly commonName: string,
    leaf: IssuedLeaf,
    signer: Issuer,
    trusted: readonly Issuer[],
    readonly privateKeyDer: Buffer | undefined,
    readonly warnings: readonly string[],
  ) {
    this.certificatePem = leaf.certificatePem;
    this.issuingCaPem = signer.certificatePem;
    this.trustedCasPem = trusted.map((root) => root.certificatePem);
    this.certificateDer = leaf.certificateDer;
    this.serialNumber = leaf.serialNumber;
    this.notBefore = leaf.notBefore;
    this.notAfter = leaf.notAfter;
    this.dnsNames = leaf.dnsNames;
    this.issuerId = signer.fingerprint;
  }

  get privateKeyPem(): string | undefined {
    if (this.privateKeyDer === undefined) return undefined;
    this.#privateKeyPem ??= derToPem(this.privateKeyDer, 'PRIVATE KEY');
    return this.#privateKeyPem;
  }
}

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
    private current: TresorMaterial,
    readonly secretRef: SecretRef,
    /** True when this instance generated the root (it won the create). */
    readonly createdRoot: boolean,
    private readonly store: SecretStore,
    private readonly clock: Clock,
    private readonly rootValidityMs: number | undefined,
  ) {}

  /** The root that signs now; its key never leaves this object. Changes with a root rotation. */
  get issuer(): Issuer {
    return this.current.signer;
  }

  /** The signer, the standby root and the rotation stage, as last read from the secret. */
  get material(): TresorMaterial {
    return this.current;
  }

  /**
   * Reads the CA bundle secret again and takes what another replica changed (a rotation step).
   * True when something changed. A secret deleted meanwhile is ignored: the root in use stays
   * until a restart generates a new one (the with-downtime method).
   */
  async reload(): Promise<boolean> {
    const secret = await this.store.get(this.secretRef);
    if (secret === undefined || secret.resourceVersion === this.current.resourceVersion) return false;
    this.current = materialFrom(this.store, secret, new Date(this.clock.now()));
    return true;
  }

  /**
   * Applies one rotation step to the stored secret, if the stored rotation is still at
   * `expectedGeneration` (ROTATION_CONFLICT otherwise, and on a concurrent write), and signs with
   * the result at once.
   */
  async applyRotationStep(step: RotationStep, expectedGeneration: number): Promise<TresorMaterial> {
    const secret = await this.store.get(this.secretRef);
    if (secret === undefined) {
      throw new ProviderError('CA_BUNDLE_MISSING', `CA bundle secret ${this.secretRef.namespace}/${this.secretRef.name} is gone; restart the ca-service to create a new root (with downtime).`);
    }
    const now = new Date(this.clock.now());
    const material = materialFrom(this.store, secret, now);
    if (material.rotation.generation !== expectedGeneration) {
      this.current = material;
      throw new ProviderError('ROTATION_CONFLICT', `The root rotation changed meanwhile (now stage "${material.rotation.stage}"); look at it again and retry.`);
    }
    const data = applyStep(step, {
      state: material.rotation,
      data: secret.data,
      signer: material.signer,
      now,
      ...(this.rootValidityMs === undefined ? {} : { rootValidityMs: this.rootValidityMs }),
    });
    let stored: StoredSecret;
    try {
      stored = await this.store.update(this.secretRef, data, secret.resourceVersion);
    } catch (error) {
      if (isProviderError(error) && error.code === 'SECRET_CONFLICT') {
        throw new ProviderError('ROTATION_CONFLICT', 'Another replica changed the root rotation at the same moment; look at it again and retry.', { cause: error });
      }
      throw error;
    }
    this.current = materialFrom(this.store, stored, now);
    return this.current;
  }

  /** Every root a workload must trust: the signer, plus the standby root during a rotation (old root first). */
  trustedRoots(): Issuer[] {
    return trustedRootsOf(this.current);
  }

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
    const material = materialFrom(store, secret, new Date(clock.now()));
    return new TresorProvider(material, ref, created, store, clock, options.rootValidityMs);
  }

  async issue(request: IssueRequest, signal?: AbortSignal): Promise<IssuedCertificate> {
    signal?.throwIfAborted();
    // One signer and bundle for the whole call, even if a reload swaps them meanwhile.
    const material = this.current;
    const signer = material.signer;
    let leaf: IssuedLeaf;
    /** PKCS#8 of a key generated here (server-key mode). */
    let privateKeyDer: Buffer | undefined;
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
        privateKeyDer = exportPrivateKeyDer(pair.privateKey);
      }
      now = new Date(this.clock.now());
      leaf = issueLeaf(signer, {
        commonName: request.commonName,
        dnsNames: request.dnsNames,
        uris: request.uris,
        ipAddresses: request.ipAddresses,
        validityMs: request.validityMs,
        now,
        keyAsDerOnly: true,
        ...(publicKey === undefined ? { keyAlgorithm: request.keyAlgorithm } : { publicKey }),
      });
      privateKeyDer ??= leaf.privateKeyDer;
    } catch (error) {
      throw this.mapIssueError(error);
    }
    const warnings: string[] = [];
    if (leaf.notAfter.getTime() < now.getTime() + request.validityMs - 1000) {
      warnings.push(`validity capped at the root's expiry ${signer.notAfter.toISOString()}; rotate the root soon (fsm-certs ca rotate --auto)`);
    }
    return new TresorCertificate(request.commonName, leaf, signer, trustedRootsOf(material), privateKeyDer, warnings);
  }

  async trustBundle(): Promise<TrustBundle> {
    return { issuingCaPem: this.current.signer.certificatePem, trustedCasPem: this.trustedRoots().map((root) => root.certificatePem) };
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
