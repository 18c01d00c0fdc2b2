// Turns an issue spec into a stored-to-be certificate: starts the provider's issuance, seals a
// server-generated key under the KEK (AAD = name + serial), computes renewAt with jitter, and
// builds the record and its announcement. No I/O of its own besides the provider.
import type { CertificateProvider, IssuedCertificate } from '@fsm-certs/providers';
import {
  sealPrivateKey,
  sealPrivateKeyDer,
  type CertificateRecord,
  type IssueAuditContext,
  type IssuedEvent,
  type IssueItem,
  type IssueReason,
  type KeyEncryptionKey,
  type RotatedEvent,
  type StoreWrite,
} from '@fsm-certs/queue';
import { parseCsr } from '@fsm-certs/x509';
import type { Clock, KeyAlgorithm, RandomSource } from '@fsm-certs/core';
import type { RenewAtPolicy } from './renew-at.js';

/** What to issue, independent of which request asked: an item or a rotation of a record. */
export type IssueSpec = Omit<IssueItem, 'requestId' | 'expectSerial'>;

/** The outcome of a started issuance; a failure is a value, so a slice never rejects as a whole. */
export type Started =
  | { readonly ok: true; readonly issued: IssuedCertificate; readonly keyAlgorithm: KeyAlgorithm }
  | { readonly ok: false; readonly error: unknown };

export interface CertificateFactoryDeps {
  readonly provider: CertificateProvider;
  readonly kek: KeyEncryptionKey;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly renewAt: RenewAtPolicy;
  /** Seal keys as DER (v2, shorter): only where compact records are written, which older versions cannot read anyway. */
  readonly sealKeyAsDer?: boolean;
}

export class CertificateFactory {
  constructor(private readonly deps: CertificateFactoryDeps) {}

  /**
   * Starts issuing one certificate; never rejects (the result says). Providers like Tresor
   * generate the key and sign synchronously in here, so callers run it inside the CPU gate; a
   * network provider's wait happens after, concurrently.
   */
  start(item: IssueSpec, signal: AbortSignal | undefined): Promise<Started> {
    try {
      const keyAlgorithm: KeyAlgorithm = item.csrPem === undefined ? item.keyAlgorithm : parseCsr(item.csrPem).keyAlgorithm;
      const request = {
        commonName: item.commonName,
        dnsNames: item.dnsNames,
        uris: item.uris,
        ipAddresses: item.ipAddresses,
        validityMs: item.validityMs,
        keyAlgorithm,
        ...(item.csrPem === undefined ? {} : { csrPem: item.csrPem }),
      };
      return this.deps.provider.issue(request, signal).then(
        (issued): Started => ({ ok: true, issued, keyAlgorithm }),
        (error: unknown): Started => ({ ok: false, error }),
      );
    } catch (error) {
      return Promise.resolve({ ok: false, error });
    }
  }

  /**
   * The record and announcement for a fresh certificate replacing `current` (compare-and-set on
   * it). `unlessRequestKnown` and the request's `audit` record go into the same object (built
   * once per certificate, not copied again to add them).
   */
  storeWrite(
    item: IssueSpec,
    issued: IssuedCertificate,
    keyAlgorithm: KeyAlgorithm,
    current: CertificateRecord | undefined,
    requestIds: readonly string[],
    extras: { readonly unlessRequestKnown?: boolean; readonly audit?: IssueAuditContext | undefined } = {},
  ): StoreWrite {
    const { record, sealedKey } = this.toRecord(item, issued, keyAlgorithm);
    const stored: CertificateRecord = current === undefined ? record : { ...record, previousSerialNumber: current.serialNumber };
    // What the record's text encodes, handed to the record encoder so it need not parse it back.
    const hints: { certificateDer?: Buffer; sealedKey?: Buffer } = {};
    if (issued.certificateDer !== undefined) hints.certificateDer = issued.certificateDer;
    if (sealedKey !== undefined) hints.sealedKey = sealedKey;
    const write: { -readonly [K in keyof StoreWrite]: StoreWrite[K] } = {
      kind: 'store',
      record: stored,
      expectSerial: current?.serialNumber ?? null,
      requestIds,
      event: this.eventFor(stored, item.reason),
      hints,
    };
    if (extras.unlessRequestKnown === true) write.unlessRequestKnown = true;
    if (extras.audit !== undefined) write.audit = extras.audit;
    return write;
  }

  /** The key sealed as the record carries it, and as bytes when it was sealed from its DER. */
  private seal(issued: IssuedCertificate): { readonly text: string; readonly bytes?: Buffer } | undefined {
    const der = this.deps.sealKeyAsDer === true;
    // The DER is the PEM's (the provider's contract); sealing it directly skips reading the PEM,
    // which Tresor makes only when it is read.
    if (der && issued.privateKeyDer !== undefined) return sealPrivateKeyDer(this.deps.kek, issued.privateKeyDer, issued.commonName, issued.serialNumber);
    if (issued.privateKeyPem === undefined) return undefined;
    return { text: sealPrivateKey(this.deps.kek, issued.privateKeyPem, issued.commonName, issued.serialNumber, { der }) };
  }

  private toRecord(item: IssueSpec, issued: IssuedCertificate, keyAlgorithm: KeyAlgorithm): { readonly record: CertificateRecord; readonly sealedKey?: Buffer } {
    const renewAt = this.deps.renewAt(issued.notBefore, issued.notAfter, this.deps.random);
    const sealedKey = this.seal(issued);
    const sealed = sealedKey?.text;
    const record: CertificateRecord = {
      commonName: item.commonName,
      serialNumber: issued.serialNumber,
      notBefore: issued.notBefore.toISOString(),
      notAfter: issued.notAfter.toISOString(),
      renewAt: renewAt.toISOString(),
      certificatePem: issued.certificatePem,
      chainPem: [...issued.chainPem],
      issuingCaPem: issued.issuingCaPem,
      trustedCasPem: [...issued.trustedCasPem],
      issuerId: issued.issuerId,
      provider: issued.provider,
      keyAlgorithm,
      mode: item.csrPem === undefined ? 'server-key' : 'csr',
      // What the certificate carries (the common name included), not what was asked for.
      dnsNames: [...issued.dnsNames],
      uris: [...item.uris],
      ipAddresses: [...item.ipAddresses],
      validityMs: item.validityMs,
      ...(item.csrPem === undefined ? {} : { csrPem: item.csrPem }),
      ...(sealed === undefined ? {} : { encryptedPrivateKey: sealed }),
      issuedAt: new Date(this.deps.clock.now()).toISOString(),
      warnings: [...issued.warnings],
    };
    return sealedKey?.bytes === undefined ? { record } : { record, sealedKey: sealedKey.bytes };
  }

  eventFor(record: CertificateRecord, reason: IssueReason): IssuedEvent | RotatedEvent {
    const at = new Date(this.deps.clock.now()).toISOString();
    if (record.previousSerialNumber === undefined) {
      return { version: 1, kind: 'issued', at, commonName: record.commonName, serialNumber: record.serialNumber, notAfter: record.notAfter };
    }
    return {
      version: 1,
      kind: 'rotated',
      at,
      commonName: record.commonName,
      serialNumber: record.serialNumber,
      previousSerialNumber: record.previousSerialNumber,
      notAfter: record.notAfter,
      reason,
    };
  }
}
