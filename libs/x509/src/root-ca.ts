import { z } from 'zod';
import { buildCertificate, truncateToSeconds } from './certificate.js';
import { encodeName } from './der/name.js';
import { X509Error } from './errors.js';
import { CA_BASIC_CONSTRAINTS, CA_KEY_USAGE, subjectKeyIdentifierExtension } from './extensions.js';
import { loadIssuer } from './issuer.js';
import { exportPrivateKeyPem, generateKeyPair, keyAlgorithmSchema } from './keys.js';
import { derToPem } from './pem.js';
import { randomSerial } from './serial.js';
import { signatureAlgorithmFor } from './signing.js';
import { keyIdentifier, spkiDerOf } from './spki.js';
import type { RootCa, RootCaOptions } from './types.js';

export const DEFAULT_ROOT_COMMON_NAME = 'fsm-ca.flomesh.io';
export const DEFAULT_ROOT_ORGANIZATION = 'Flomesh Service Mesh';
/** 87600h, a decade, as FSM's Tresor root. */
export const DEFAULT_ROOT_VALIDITY_MS = 87_600 * 3_600_000;
/** Backdating absorbs clock skew between the CA and the workloads that check its certificates. */
export const BACKDATE_MS = 60_000;

const rootOptionsSchema = z.object({
  commonName: z.string().min(1).max(256).default(DEFAULT_ROOT_COMMON_NAME),
  organization: z.string().min(1).max(256).nullable().default(DEFAULT_ROOT_ORGANIZATION),
  validityMs: z.number().finite().min(600_000).default(DEFAULT_ROOT_VALIDITY_MS),
  keyAlgorithm: keyAlgorithmSchema.default('ecdsa-p256'),
  now: z.date().optional(),
  randomBytes: z.custom<(size: number) => Buffer>((v) => typeof v === 'function').optional(),
});

/** A self-signed root: BasicConstraints CA:TRUE and KeyUsage keyCertSign+cRLSign, both critical. */
export function createRootCa(options: RootCaOptions = {}): RootCa {
  const parsed = rootOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new X509Error(
      issue?.path[0] === 'keyAlgorithm' ? 'UNSUPPORTED_KEY' : issue?.path[0] === 'validityMs' ? 'VALIDITY_TOO_SHORT' : 'INVALID_NAME',
      `invalid root CA option ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'rejected'}`,
    );
  }
  const opts = parsed.data;
  const now = opts.now ?? new Date();
  const keyPair = generateKeyPair(opts.keyAlgorithm);
  const spki = spkiDerOf(keyPair.publicKey);
  const name = encodeName({ ...(opts.organization === null ? {} : { organization: opts.organization }), commonName: opts.commonName });
  const der = buildCertificate({
    serialDer: randomSerial(opts.randomBytes).der,
    signatureAlgorithm: signatureAlgorithmFor(keyPair.algorithm),
    issuerName: name,
    notBefore: truncateToSeconds(new Date(now.getTime() - BACKDATE_MS)),
    notAfter: truncateToSeconds(new Date(now.getTime() + opts.validityMs)),
    subjectName: name,
    spki,
    extensions: [CA_BASIC_CONSTRAINTS, CA_KEY_USAGE, subjectKeyIdentifierExtension(keyIdentifier(spki))],
    signingKey: keyPair.privateKey,
  });
  const certificatePem = derToPem(der);
  const privateKeyPem = exportPrivateKeyPem(keyPair.privateKey);
  return { certificatePem, privateKeyPem, issuer: loadIssuer(certificatePem, privateKeyPem, now) };
}
