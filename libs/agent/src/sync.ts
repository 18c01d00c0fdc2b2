// One synchronisation with the gateway: read the trust bundle, decide whether the certificate
// must be issued anew, or whether the gateway holds a newer one for us (a rotation it made),
// check whatever comes back, and plan the writes. The plan writes the trust bundle BEFORE a
// new leaf whenever both change (see docs/agent.md, "Order of writes"), and never a leaf that
// does not chain to the bundle written with it.
import { GatewayRequestError, type CertificateResponse, type IssueCertificateInput, type TrustBundleResponse } from '@fsm-certs/client';
import { AgentError } from './errors.js';
import type { GatewayAccess } from './gateway.js';
import type { AgentLogger } from './logger.js';
import { admit, chainsTo, csrFor, generateLeafKey, keyMatchesCertificate, sameSerial, type Candidate, type Installed } from './material.js';
import type { ResolvedOptions } from './options.js';

/**
 * refresh: re-read everything, adopt what the gateway rotated for us, issue only if we must;
 * stale-issuer: as refresh, and issue if our leaf is still from a CA that no longer issues;
 * renew: issue a new certificate (renewAt reached).
 */
export type SyncKind = 'refresh' | 'stale-issuer' | 'renew';

export const SYNC_KIND_RANK: Readonly<Record<SyncKind, number>> = { refresh: 0, 'stale-issuer': 1, renew: 2 };

export type SyncOutcome =
  /** Nothing to write. */
  | 'unchanged'
  /** Only ca.pem changed. */
  | 'trust-bundle'
  /** A certificate the gateway rotated for us was taken. */
  | 'adopted'
  /** A new certificate was issued. */
  | 'issued'
  /** A renewal was asked for, but the gateway answered with the current certificate (not yet due by its clock). */
  | 'deferred';

export interface SyncPlan {
  readonly outcome: SyncOutcome;
  /** Why a certificate was issued or adopted, for the log and the hook. */
  readonly reason: string;
  /** The snapshots to write, in order (at most two: the bundle first, then the new leaf). */
  readonly writes: ReadonlyArray<{ readonly installed: Installed; readonly changed: readonly FileKind[] }>;
  /** What is served after the writes (the current one with a fresher renewAt when nothing is written). */
  readonly next: Installed | undefined;
  /** The CA issuing now, to notice a root rotation's activation. */
  readonly issuingCaPem: string;
}

export type FileKind = 'cert' | 'key' | 'ca';

export interface SyncContext {
  readonly options: ResolvedOptions;
  readonly gateway: GatewayAccess;
  readonly logger: AgentLogger;
  /** Agent-clock time of the last issuance by this agent (undefined: none yet). */
  readonly lastIssuedAt: number | undefined;
}

/** When a certificate is due: the gateway's renewAt, or two thirds into its life when unknown. */
export function dueAt(installed: Installed): number {
  if (installed.renewAt !== undefined) return installed.renewAt.getTime();
  const life = installed.notAfter.getTime() - installed.notBefore.getTime();
  return installed.notBefore.getTime() + Math.floor((life * 2) / 3);
}

function rootsOf(bundle: TrustBundleResponse): string[] {
  return bundle.trustedCAs.length > 0 ? [...bundle.trustedCAs] : [bundle.issuingCA];
}

function samePems(a: readonly string[], b: readonly string[]): boolean {
  const norm = (list: readonly string[]): string[] => list.map((pem) => pem.trim()).sort();
  const left = norm(a);
  const right = norm(b);
  return left.length === right.length && left.every((pem, i) => pem === right[i]);
}

function isStatus(error: unknown, ...statuses: number[]): error is GatewayRequestError {
  return error instanceof GatewayRequestError && statuses.includes(error.status);
}

export class Synchronizer {
  private readLogged = false;

  constructor(private readonly context: Omit<SyncContext, 'lastIssuedAt'>) {}

  async run(kind: SyncKind, current: Installed | undefined, lastIssuedAt: number | undefined): Promise<SyncPlan> {
    const { options, gateway } = this.context;
    const now = new Date(options.clock.now());
    let bundle = await gateway.call('GET /v1/ca', (client) => client.trustBundle());
    let roots = rootsOf(bundle);

    let reason = this.mustIssue(kind, current, now, lastIssuedAt);
    let candidate: Candidate | undefined;
    let served = current;
    let outcome: SyncOutcome = 'unchanged';
    if (reason === undefined && current !== undefined) {
      const found = await this.fromGateway(current);
      if (found.kind === 'missing') reason = 'the gateway holds no certificate for this name';
      else if (found.kind === 'newer') {
        candidate = found.candidate;
        reason = 'the gateway rotated it';
        outcome = 'adopted';
      } else if (found.kind === 'same' && found.renewAt !== undefined) {
        served = { ...current, renewAt: found.renewAt };
      }
    }
    if (reason === undefined && candidate === undefined && served !== undefined) {
      if (!chainsTo(served.certificatePem, served.chainPems, roots, now)) reason = 'the trust bundle no longer holds its root';
      else if (kind === 'stale-issuer' && !chainsTo(served.certificatePem, served.chainPems, [bundle.issuingCA], now)) {
        reason = 'a root rotation switched the issuing CA and the gateway did not re-issue this certificate';
      }
    }
    if (reason !== undefined && candidate === undefined) {
      const issued = await this.issue();
      if (current !== undefined && sameSerial(issued.serialNumber, current.serialNumber)) {
        // Server-key mode: the gateway hands back the current certificate while it is not yet
        // due by the gateway's clock. Keep serving it and try again later.
        const renewAt = new Date(issued.renewAt);
        return { outcome: 'deferred', reason, writes: [], next: { ...current, renewAt }, issuingCaPem: bundle.issuingCA };
      }
      candidate = issued.candidate;
      outcome = 'issued';
    }

    let installed: Installed | undefined;
    if (candidate !== undefined) {
      try {
        installed = admit(candidate, options.commonName, roots, now);
      } catch (error) {
        if (!(error instanceof AgentError) || error.code !== 'CERTIFICATE_UNTRUSTED') throw error;
        // The bundle may have changed between our two requests (a rotation's prepare): read it again.
        bundle = await gateway.call('GET /v1/ca', (client) => client.trustBundle());
        roots = rootsOf(bundle);
        installed = admit(candidate, options.commonName, roots, now);
      }
    }

    const bundleChanged = served === undefined || !samePems(served.trustedCaPems, roots);
    const writes: Array<{ installed: Installed; changed: FileKind[] }> = [];
    if (served !== undefined && bundleChanged) writes.push({ installed: { ...served, trustedCaPems: roots }, changed: ['ca'] });
    if (installed !== undefined) writes.push({ installed, changed: served === undefined ? ['cert', 'key', 'ca'] : installed.keyPem === served.keyPem ? ['cert'] : ['cert', 'key'] });
    const next = installed ?? (served === undefined ? undefined : { ...served, trustedCaPems: roots });
    if (installed === undefined && bundleChanged && served !== undefined) outcome = 'trust-bundle';
    return { outcome, reason: reason ?? (bundleChanged ? 'the trust bundle changed' : 'up to date'), writes, next, issuingCaPem: bundle.issuingCA };
  }

  /** Why a new certificate is needed now, or undefined. */
  private mustIssue(kind: SyncKind, current: Installed | undefined, now: Date, lastIssuedAt: number | undefined): string | undefined {
    if (current === undefined) return 'there is no certificate yet';
    if (now.getTime() >= current.notAfter.getTime()) return 'the certificate expired';
    if (kind === 'renew') return 'its renew time was reached';
    const guard = lastIssuedAt === undefined ? 0 : lastIssuedAt + this.context.options.minRenewIntervalMs;
    if (now.getTime() >= Math.max(dueAt(current), guard)) return 'it is past its renew time';
    return undefined;
  }

  /** What the gateway holds for our name, compared with what we serve. */
  private async fromGateway(current: Installed): Promise<
    | { kind: 'same'; renewAt: Date | undefined }
    | { kind: 'other' }
    | { kind: 'missing' }
    | { kind: 'newer'; candidate: Candidate }
  > {
    const { options, gateway, logger } = this.context;
    let record: CertificateResponse;
    try {
      record = await gateway.call(`GET /v1/certificates/${options.commonName}`, (client) => client.get(options.commonName));
    } catch (error) {
      if (isStatus(error, 404)) return { kind: 'missing' };
      if (!isStatus(error, 401, 403)) throw error;
      if (!this.readLogged) {
        this.readLogged = true;
        logger.warn({ code: error.code }, 'the token may not read certificates (read scope); rotations made by the gateway are picked up only at renew time');
      }
      if (options.keyMode === 'csr') return { kind: 'same', renewAt: undefined };
      // Server-key mode can still ask: an identical issue request returns the current certificate.
      const issued = await this.issue();
      return sameSerial(issued.serialNumber, current.serialNumber) ? { kind: 'same', renewAt: new Date(issued.renewAt) } : { kind: 'newer', candidate: issued.candidate };
    }
    if (sameSerial(record.serialNumber, current.serialNumber)) return { kind: 'same', renewAt: new Date(record.renewAt) };
    if (options.keyMode === 'csr') {
      // Another holder of the same name (a replica with its own key) may have issued since: its
      // certificate is not ours to take, and fighting over the name would never settle.
      if (!keyMatchesCertificate(current.keyPem, record.certificate)) return { kind: 'other' };
      return { kind: 'newer', candidate: { commonName: record.commonName, certificatePem: record.certificate, chainPems: record.chain, keyPem: current.keyPem, renewAt: new Date(record.renewAt) } };
    }
    // The gateway returns a server-generated key only in an issue answer: ask with the same
    // parameters; a current certificate that is not yet due comes back, with its key.
    const issued = await this.issue();
    if (sameSerial(issued.serialNumber, current.serialNumber)) return { kind: 'same', renewAt: new Date(issued.renewAt) };
    return { kind: 'newer', candidate: issued.candidate };
  }

  private async issue(): Promise<{ serialNumber: string; renewAt: string; candidate: Candidate }> {
    const { options, gateway } = this.context;
    const base: IssueCertificateInput = {
      commonName: options.commonName,
      ...(options.sans.length > 0 ? { sans: [...options.sans] } : {}),
      ...(options.validity === undefined ? {} : { validity: options.validity }),
      ...(options.spiffe ? { spiffe: true } : {}),
    };
    if (options.keyMode === 'csr') {
      const { csrPem, keyPem } = csrFor(options.commonName, await generateLeafKey(options.keyAlgorithm));
      const res = await gateway.call('POST /v1/certificates', (client) => client.issue({ ...base, csr: csrPem }));
      return { serialNumber: res.serialNumber, renewAt: res.renewAt, candidate: candidateOf(res, keyPem) };
    }
    const res = await gateway.call('POST /v1/certificates', (client) => client.issue({ ...base, keyAlgorithm: options.keyAlgorithm }));
    if (res.privateKey === undefined) {
      throw new AgentError('UNEXPECTED_RESPONSE', `the gateway issued ${res.serialNumber} for ${res.commonName} without its private key; a server-key issue answer must carry it`);
    }
    return { serialNumber: res.serialNumber, renewAt: res.renewAt, candidate: candidateOf(res, res.privateKey) };
  }
}

function candidateOf(res: CertificateResponse, keyPem: string): Candidate {
  return { commonName: res.commonName, certificatePem: res.certificate, chainPems: res.chain, keyPem, renewAt: new Date(res.renewAt) };
}
