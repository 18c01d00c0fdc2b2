// Assembles and signs a v3 certificate from pre-encoded parts. Shared by the root and the leaf
// builders; callers precompute whatever is constant for an issuer.
import type { KeyObject } from 'node:crypto';
import { bitString, contextTag, sequence, time, tlv } from './der/writer.js';
import { extensionsField } from './extensions.js';
import { signTbs } from './signing.js';

const VERSION_V3 = tlv(contextTag(0, true), Buffer.from([0x02, 0x01, 0x02]));

export interface CertificateParts {
  readonly serialDer: Buffer;
  readonly signatureAlgorithm: Buffer;
  readonly issuerName: Buffer;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly subjectName: Buffer;
  readonly spki: Buffer;
  readonly extensions: readonly Buffer[];
  readonly signingKey: KeyObject;
}

/** The TBSCertificate: the generic writer, and the reference the one-pass leaf writer (leaf-der.ts) is held to. */
export function encodeTbs(parts: Omit<CertificateParts, 'signingKey'>): Buffer {
  return sequence([
    VERSION_V3,
    parts.serialDer,
    parts.signatureAlgorithm,
    parts.issuerName,
    sequence([time(parts.notBefore), time(parts.notAfter)]),
    parts.subjectName,
    parts.spki,
    extensionsField(parts.extensions),
  ]);
}

export function buildCertificate(parts: CertificateParts): Buffer {
  const tbs = encodeTbs(parts);
  return sequence([tbs, parts.signatureAlgorithm, bitString(signTbs(tbs, parts.signingKey))]);
}

/** Certificates carry whole seconds; report exactly what was encoded. */
export function truncateToSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}
