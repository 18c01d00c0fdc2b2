// Test hooks: what the simulated cert-manager does with a request. A default for all requests,
// rules matched against each new request (first match wins), and annotations on the request.
import type { KubeObject } from '../types.js';

export interface CertManagerBehaviour {
  /** 'ignore' leaves requests unapproved, as if no approver ran. */
  readonly approval: 'approve' | 'deny' | 'ignore';
  /** 'fail' sets Ready=False reason Failed; 'stall' never answers. */
  readonly signing: 'sign' | 'fail' | 'stall';
  /** Leave status.ca unset (some issuers do), so the requester needs the CA bundle Secret. */
  readonly omitCa: boolean;
  /** Delay before approval and again before signing, in ms. */
  readonly delayMs: number;
  readonly denyMessage: string;
  readonly failMessage: string;
}

export const DEFAULT_BEHAVIOUR: CertManagerBehaviour = {
  approval: 'approve',
  signing: 'sign',
  omitCa: false,
  delayMs: 5,
  denyMessage: 'Denied by the emulated approver (test hook)',
  failMessage: 'The emulated CA issuer failed to sign the request (test hook)',
};

export interface BehaviourRule {
  readonly match: (request: KubeObject) => boolean;
  readonly behaviour: Partial<CertManagerBehaviour>;
}

/**
 * Annotations a test may put on a CertificateRequest it creates itself:
 * emulator.fsm-certs.io/approval: approve|deny|ignore, .../signing: sign|fail|stall, .../omit-ca: "true".
 */
export const ANNOTATION_PREFIX = 'emulator.fsm-certs.io/';

function fromAnnotations(request: KubeObject): Partial<CertManagerBehaviour> {
  const annotations = request.metadata.annotations ?? {};
  const out: { -readonly [K in keyof CertManagerBehaviour]?: CertManagerBehaviour[K] } = {};
  const approval = annotations[`${ANNOTATION_PREFIX}approval`];
  if (approval === 'approve' || approval === 'deny' || approval === 'ignore') out.approval = approval;
  const signing = annotations[`${ANNOTATION_PREFIX}signing`];
  if (signing === 'sign' || signing === 'fail' || signing === 'stall') out.signing = signing;
  if (annotations[`${ANNOTATION_PREFIX}omit-ca`] === 'true') out.omitCa = true;
  return out;
}

export function decideBehaviour(base: CertManagerBehaviour, rules: readonly BehaviourRule[], request: KubeObject): CertManagerBehaviour {
  const rule = rules.find((candidate) => candidate.match(request));
  return { ...base, ...(rule?.behaviour ?? {}), ...fromAnnotations(request) };
}
