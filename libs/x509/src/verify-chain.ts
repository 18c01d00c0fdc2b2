// Path building from a leaf to any of several trusted roots. Several roots matter during root
// rotation, when workloads trust old and new at once. Signatures and issuer matching are checked
// by OpenSSL through node's X509Certificate; validity windows by our own parser.
import { X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { X509Error } from './errors.js';
import { parseCertificateOrThrow } from './parse-certificate.js';
import { fingerprintSha256, pemToDer } from './pem.js';

const MAX_DEPTH = 8;

const verifyChainSchema = z.object({
  leafPem: z.string().min(1),
  intermediatesPem: z.array(z.string()).optional(),
  trustedRootsPem: z.array(z.string()).min(1, 'at least one trusted root is required'),
  at: z.date().optional(),
});

export interface VerifyChainOptions {
  readonly leafPem: string;
  readonly intermediatesPem?: readonly string[];
  readonly trustedRootsPem: readonly string[];
  /** Time at which validity is judged; default now. */
  readonly at?: Date;
}

interface Candidate {
  readonly x509: X509Certificate;
  readonly fingerprint: string;
  readonly name: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

function candidate(pem: string, what: string): Candidate {
  const der = pemToDer(pem);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(der);
  } catch (cause) {
    throw new X509Error('INVALID_PEM', `${what} cannot be parsed as X.509`, { cause });
  }
  const parsed = parseCertificateOrThrow(der, what);
  return { x509, fingerprint: fingerprintSha256(der), name: x509.subject.replace(/\n/g, ', '), notBefore: parsed.notBefore, notAfter: parsed.notAfter };
}

function chainInvalid(reason: string): X509Error {
  return new X509Error('CHAIN_INVALID', `certificate chain is not trusted: ${reason}`);
}

function checkValidity(cert: Candidate, at: Date): void {
  if (at < cert.notBefore) throw chainInvalid(`"${cert.name}" is not valid before ${cert.notBefore.toISOString()}`);
  if (at > cert.notAfter) throw chainInvalid(`"${cert.name}" expired at ${cert.notAfter.toISOString()}`);
}

function issuedBy(child: Candidate, parent: Candidate): boolean {
  return parent.x509.ca && child.x509.checkIssued(parent.x509) && child.x509.verify(parent.x509.publicKey);
}

/** Throws CHAIN_INVALID with the reason unless leaf -> intermediates -> one of the roots holds at `at`. */
export function verifyChain(options: VerifyChainOptions): { trustedRootFingerprint: string } {
  const parsed = verifyChainSchema.safeParse(options);
  if (!parsed.success) throw chainInvalid(parsed.error.issues[0]?.message ?? 'invalid options');
  const at = parsed.data.at ?? new Date();
  const leaf = candidate(parsed.data.leafPem, 'the leaf certificate');
  const intermediates = (parsed.data.intermediatesPem ?? []).map((pem, i) => candidate(pem, `intermediate #${i + 1}`));
  const roots = parsed.data.trustedRootsPem.map((pem, i) => candidate(pem, `trusted root #${i + 1}`));

  let current = leaf;
  const used = new Set<string>([leaf.fingerprint]);
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    checkValidity(current, at);
    const root = roots.find((r) => r.fingerprint === current.fingerprint) ?? roots.find((r) => issuedBy(current, r));
    if (root !== undefined) {
      checkValidity(root, at);
      return { trustedRootFingerprint: root.fingerprint };
    }
    const next = intermediates.find((c) => !used.has(c.fingerprint) && issuedBy(current, c));
    if (next === undefined) {
      throw chainInvalid(`no trusted root or intermediate issued "${current.name}" (issuer "${current.x509.issuer.replace(/\n/g, ', ')}"); it was signed by a CA that is not trusted`);
    }
    used.add(next.fingerprint);
    current = next;
  }
  throw chainInvalid(`the chain is longer than ${MAX_DEPTH} certificates`);
}
