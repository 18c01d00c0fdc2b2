// VaultProvider: the CertificateProvider adapter over VaultClient. Start-up checks the token
// (lookup-self, capabilities), publishes the root cert as ca.crt and keeps the token renewed;
// issue() maps an IssueRequest to pki/issue (server key) or pki/sign (CSR) and reads the result
// back from the certificate itself.
import { keyFamilyOf, rsaModulusBits } from '@fsm-certs/core';
import type { KeyAlgorithm } from '@fsm-certs/core';
import { certificateFacts, fingerprintSha256, splitPemBundle } from '@fsm-certs/x509';
import type { CertificateFacts } from '@fsm-certs/x509';
import { toPkcs8Pem } from './pkcs8.js';
import { ProviderError } from '../errors.js';
import type { CertificateProvider, IssueRequest, IssuedCertificate, TrustBundle } from '../provider.js';
import type { SecretRef, SecretStore } from '../secret-store/types.js';
import { publishCaBundle } from './ca-bundle.js';
import type { VaultLogger } from './logger.js';
import type { VaultIssued } from './schemas.js';
import { TokenRenewer, realScheduler } from './token-renewer.js';
import type { Scheduler } from './token-renewer.js';
import type { IssueParams, VaultClient } from './vault-client.js';
import { isSelfSigned, normalisePem, readVaultTrust } from './trust.js';
import type { VaultTrust } from './trust.js';

export interface VaultProviderOptions {
  readonly client: VaultClient;
  /** PKI role used for issue/sign (vault.role). */
  readonly role: string;
  /** PKI mount path (vault.mountPath), default `pki`. */
  readonly mountPath?: string;
  /** Where ca.crt is published (caBundleSecretName in the control-plane namespace). */
  readonly store: SecretStore;
  readonly caBundle: SecretRef;
  readonly logger: VaultLogger;
  /** Timer for token renewal; default setTimeout (unref'd). */
  readonly schedule?: Scheduler;
  /** Increment asked for on token renewal, e.g. "1h"; default: the token's own TTL. */
  readonly tokenRenewIncrement?: string;
  /** Injectable clock (compares the issued notAfter with what was asked for). */
  readonly clock?: () => Date;
}

/** The key Vault is asked for: key_type and key_bits of an algorithm. */
function vaultKeyOf(algorithm: KeyAlgorithm): { type: 'ec' | 'rsa'; bits: number } {
  return keyFamilyOf(algorithm) === 'ec' ? { type: 'ec', bits: 256 } : { type: 'rsa', bits: rsaModulusBits(algorithm) ?? 2048 };
}

/** The key algorithm of a certificate's public key; undefined for one we do not issue. */
function algorithmOf(info: CertificateFacts): KeyAlgorithm | undefined {
  if (info.keyType === 'ec') return info.keySize === 256 ? 'ecdsa-p256' : undefined;
  if (info.keyType !== 'rsa') return undefined;
  return info.keySize === 2048 ? 'rsa-2048' : info.keySize === 3072 ? 'rsa-3072' : info.keySize === 4096 ? 'rsa-4096' : undefined;
}

/** What the CA certificates returned with a leaf say, worked out once per combination. */
interface CaFacts {
  readonly issuingCaPem: string;
  /** ca_chain without its self-signed roots, in Vault's order. */
  readonly intermediates: readonly string[];
  readonly roots: readonly string[];
  /** Fingerprint of issuingCaPem. */
  readonly issuerId: string;
}

/** A role's fixed key, or undefined when it takes any (`key_type=any`) or is unknown to us. */
export interface RoleKey {
  readonly type: string;
  readonly bits: number | undefined;
}

function roleGives(role: RoleKey, algorithm: KeyAlgorithm): boolean {
  if (role.type === 'any') return true;
  const wanted = vaultKeyOf(algorithm);
  if (role.type !== wanted.type) return false;
  // Vault's key_bits 0 means the type's default (2048 for RSA, 256 for EC).
  const bits = role.bits === undefined || role.bits === 0 ? (role.type === 'rsa' ? 2048 : 256) : role.bits;
  return bits === wanted.bits;
}

function describeRoleKey(role: RoleKey): string {
  return role.bits === undefined || role.bits === 0 ? role.type : `${role.type} ${role.bits}`;
}

export class VaultProvider implements CertificateProvider {
  readonly kind = 'vault' as const;
  /**
   * A cancelled issue retries no more and stops waiting on its request in flight; the bound stays
   * one request timeout, the longest a Vault call can take with a transport that cannot be cut.
   */
  readonly cancelSettleMs: number;
  private readonly mount: string;
  private trusted: string[];
  private issuing: string;
  /** The secret still holds an older bundle (a write failed): the next read writes it again. */
  private publishPending = false;

  private constructor(
    private readonly options: VaultProviderOptions,
    private readonly renewer: TokenRenewer,
    trust: VaultTrust,
    /** The role's key as read at start (when our token may read the role); checked again on every answer. */
    private roleKey: RoleKey | undefined,
  ) {
    this.mount = options.mountPath ?? 'pki';
    this.issuing = trust.issuingCaPem;
    this.trusted = [...trust.trustedCasPem];
    this.cancelSettleMs = options.client.requestTimeoutMs;
  }

  private clockMs(): number {
    return (this.options.clock?.() ?? new Date()).getTime();
  }

  /** Check the token, publish ca.crt, start renewal. Fails with a clear ProviderError when Vault or the token is unusable. */
  static async start(options: VaultProviderOptions): Promise<VaultProvider> {
    const { client, logger } = options;
    const mount = options.mountPath ?? 'pki';
    let lookup;
    try {
      lookup = await client.lookupSelf();
    } catch (error) {
      if (error instanceof ProviderError && error.code === 'BACKEND_AUTH_FAILED') {
        throw new ProviderError('BACKEND_AUTH_FAILED', `The Vault token was refused by ${client.address} (auth/token/lookup-self answered 403): it is invalid or expired. Set vault.token (VAULT_TOKEN) or the secret named by vault.secret.name/vault.secret.key to a valid token.`, { cause: error });
      }
      throw error;
    }
    const issuePath = `${mount}/issue/${options.role}`;
    const signPath = `${mount}/sign/${options.role}`;
    const caps = await client.capabilities([issuePath, signPath]);
    for (const path of [issuePath, signPath]) {
      const list = caps?.[path];
      if (list !== undefined && !list.some((c) => c === 'root' || c === 'update' || c === 'create')) {
        throw new ProviderError('BACKEND_AUTH_FAILED', `The Vault token may not write ${path} (capabilities: ${list.join(', ') || 'none'}): attach a policy with path "${path}" { capabilities = ["update"] }, or check vault.role.`);
      }
    }
    const trust = await readVaultTrust(client, mount, (options.clock?.() ?? new Date()).getTime());
    if (trust === undefined) {
      throw new ProviderError('CA_BUNDLE_MISSING', `Vault mount ${mount}/ at ${client.address} has no CA: generate one (vault-bootstrap, or vault write ${mount}/root/generate/internal common_name=fsm.root ttl=87600h).`);
    }
    const written = await publishCaBundle(options.store, options.caBundle, trust.trustedCasPem.join(''));
    logger.info({ secret: `${options.caBundle.namespace}/${options.caBundle.name}`, result: written, issuerId: fingerprintSha256(trust.issuingCaPem), roots: trust.trustedCasPem.length }, 'vault root certificates published as ca.crt');
    const role = await client.readRoleIfAllowed(mount, options.role);
    const roleKey = role?.key_type === undefined ? undefined : { type: role.key_type, bits: role.key_bits };
    const renewer = new TokenRenewer(client, logger, options.schedule ?? realScheduler, options.tokenRenewIncrement);
    renewer.start(lookup.ttl, lookup.renewable);
    logger.info({ address: client.address, mount, role: options.role, tokenTtlSeconds: lookup.ttl, renewable: lookup.renewable }, 'vault provider ready');
    return new VaultProvider(options, renewer, trust, roleKey);
  }

  async issue(request: IssueRequest, signal?: AbortSignal): Promise<IssuedCertificate> {
    if (request.commonName.trim() === '') throw new ProviderError('INVALID_REQUEST', 'The common name is empty: give the certificate a name.');
    if (!Number.isFinite(request.validityMs) || request.validityMs < 1000) {
      throw new ProviderError('INVALID_REQUEST', `Validity ${request.validityMs} ms is not a positive duration: ask for e.g. 24h.`);
    }
    let params: IssueParams = {
      commonName: request.commonName,
      altNames: request.dnsNames,
      uriSans: request.uris,
      ipSans: request.ipAddresses,
      ttlSeconds: Math.ceil(request.validityMs / 1000),
    };
    const { client, role } = this.options;
    const csrMode = request.csrPem !== undefined;
    if (!csrMode && this.roleKey !== undefined && !roleGives(this.roleKey, request.keyAlgorithm)) {
      // What we know of the role may be stale (an operator widened it): look again before refusing.
      const current = await client.readRoleIfAllowed(this.mount, role, signal);
      this.roleKey = current?.key_type === undefined ? undefined : { type: current.key_type, bits: current.key_bits };
      if (this.roleKey !== undefined && !roleGives(this.roleKey, request.keyAlgorithm)) throw this.keyRefused(request.keyAlgorithm, this.roleKey);
    }
    if (!csrMode) params = { ...params, key: vaultKeyOf(request.keyAlgorithm) };
    const answer = csrMode
      ? await client.sign(this.mount, role, request.csrPem ?? '', params, signal)
      : await client.issue(this.mount, role, params, signal);
    return this.toIssued(request, answer, csrMode);
  }

  /**
   * Follows the mount's issuers: after a root rotation inside Vault the bundle gains the new root
   * (and keeps the old one while it is an issuer), and the CA-bundle secret is rewritten.
   */
  async trustBundle(): Promise<TrustBundle> {
    try {
      const trust = await readVaultTrust(this.options.client, this.mount, this.clockMs());
      if (trust !== undefined) await this.adopt(trust);
    } catch (error) {
      // Serving the last known roots beats failing while Vault is briefly away.
      if (!(error instanceof ProviderError && error.retryable)) throw error;
      this.options.logger.warn({ err: error.message }, 'vault unavailable; serving the last known trust bundle');
    }
    return { issuingCaPem: this.issuing, trustedCasPem: [...this.trusted] };
  }

  private async adopt(trust: VaultTrust): Promise<void> {
    const same = trust.issuingCaPem === this.issuing && trust.trustedCasPem.length === this.trusted.length && trust.trustedCasPem.every((pem, i) => pem === this.trusted[i]);
    if (same && !this.publishPending) return;
    this.issuing = trust.issuingCaPem;
    this.trusted = [...trust.trustedCasPem];
    const { store, caBundle, logger } = this.options;
    try {
      const written = await publishCaBundle(store, caBundle, this.trusted.join(''));
      this.publishPending = false;
      logger.info({ secret: `${caBundle.namespace}/${caBundle.name}`, result: written, issuerId: fingerprintSha256(this.issuing), roots: this.trusted.length }, 'vault issuers changed; ca.crt republished');
    } catch (error) {
      logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'vault issuers changed but ca.crt could not be written; retried on the next trust bundle read');
      this.publishPending = true;
    }
  }

  private caFacts = new Map<string, CaFacts>();

  /**
   * Every leaf comes back with the same few CA certificates (issuing_ca, ca_chain): split,
   * classify and fingerprint each combination once rather than once per certificate.
   */
  private caFactsOf(issuingCa: string, caChain: readonly string[] | null | undefined): CaFacts {
    const key = caChain === undefined || caChain === null ? issuingCa : `${issuingCa}\0${caChain.join('\0')}`;
    let facts = this.caFacts.get(key);
    if (facts === undefined) {
      if (this.caFacts.size > 32) this.caFacts.clear();
      const chain = (caChain ?? []).flatMap((pem) => splitPemBundle(pem)).map(normalisePem);
      const issuingCaPem = normalisePem(issuingCa);
      facts = {
        issuingCaPem,
        intermediates: chain.filter((pem) => !isSelfSigned(pem)),
        roots: chain.filter(isSelfSigned),
        issuerId: fingerprintSha256(issuingCaPem),
      };
      this.caFacts.set(key, facts);
    }
    return facts;
  }

  /** A key the role cannot give: a 400 naming the role's key type, never a certificate of another type. */
  private keyRefused(asked: KeyAlgorithm, role: RoleKey): ProviderError {
    return new ProviderError(
      'INVALID_REQUEST',
      `Vault role ${this.options.role} issues ${describeRoleKey(role)} keys, so keyAlgorithm ${asked} cannot be served: ask for ${role.type === 'ec' ? 'ecdsa-p256' : `rsa-${role.bits === undefined || role.bits === 0 ? 2048 : role.bits}`}, or have the operator set key_type=any (or ${vaultKeyOf(asked).type}) on the role.`,
    );
  }

  close(): Promise<void> {
    this.renewer.stop();
    this.options.client.close();
    return Promise.resolve();
  }

  private toIssued(request: IssueRequest, answer: VaultIssued, csrMode: boolean): IssuedCertificate {
    const { data } = answer;
    const certificatePem = normalisePem(data.certificate);
    const info = certificateFacts(certificatePem);
    if (info.commonName !== request.commonName) {
      throw new ProviderError('ISSUANCE_FAILED', `Vault issued a certificate for "${info.commonName ?? ''}" instead of "${request.commonName}": set use_csr_common_name=false and use_csr_sans=false on role ${this.options.role} (vault-bootstrap does) so the requested identity is used.`);
    }
    const { issuingCaPem, intermediates, roots, issuerId } = this.caFactsOf(data.issuing_ca, data.ca_chain);
    for (const root of roots.length > 0 ? roots : [issuingCaPem]) {
      if (!this.trusted.includes(root) && isSelfSigned(root)) this.trusted = [root, ...this.trusted];
    }
    // Our key_type/key_bits are ignored by a role with a fixed key; the check below covers that case.
    const warnings = answer.warnings.filter((w) => !/parameters key_type and key_bits ignored/i.test(w));
    let privateKeyPem: string | undefined;
    if (!csrMode) {
      if (data.private_key === undefined) throw new ProviderError('ISSUANCE_FAILED', `Vault ${this.mount}/issue/${this.options.role} returned no private key: check the Vault version and role.`);
      // The certificate's own public key says what was issued (the key is the certificate's pair).
      if (algorithmOf(info) !== request.keyAlgorithm) {
        // The role changed since start (or could not be read): learn it and refuse, never misstate the key.
        this.roleKey = { type: info.keyType, bits: info.keySize };
        throw this.keyRefused(request.keyAlgorithm, this.roleKey);
      }
      privateKeyPem = toPkcs8Pem(data.private_key);
    }
    for (const warning of warnings) {
      this.options.logger.warn({ commonName: request.commonName, warning, vault: { path: `${this.mount}/${csrMode ? 'sign' : 'issue'}/${this.options.role}` } }, 'vault warning');
    }
    const requestedNotAfter = (this.options.clock?.() ?? new Date()).getTime() + request.validityMs;
    if (info.notAfter.getTime() < requestedNotAfter - 120_000) {
      this.options.logger.info({ commonName: request.commonName, notAfter: info.notAfter.toISOString(), requestedValidityMs: request.validityMs }, 'vault certificate is shorter than requested');
    }
    return {
      commonName: request.commonName,
      certificatePem,
      chainPem: [...intermediates],
      issuingCaPem,
      trustedCasPem: [...this.trusted],
      ...(privateKeyPem === undefined ? {} : { privateKeyPem }),
      serialNumber: data.serial_number.replace(/:/g, '').toLowerCase(),
      notBefore: info.notBefore,
      notAfter: info.notAfter,
      dnsNames: info.dnsNames,
      issuerId,
      provider: 'vault',
      warnings,
    };
  }
}
